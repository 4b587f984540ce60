"""A throwaway PostgreSQL + PostGIS cluster for the benchmarks.

The tests' cluster (tests/engines.py: a temporary folder, the unix socket only, no TCP at
all, removed when stopped), but with PostgreSQL's durable defaults: the tests turn fsync,
full-page writes and synchronous commit off, which would flatter every write figure.
"""

import sys
from pathlib import Path

import psycopg

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tests.engines import ThrowawayCluster, missing_postgresql, with_database  # noqa: E402


class DurableCluster(ThrowawayCluster):
    """A cluster that commits as a production server does (fsync, synchronous commit), with
    memory settings for a machine that also runs the app servers."""

    def start(self):
        data = f"{self.folder}/data"
        self._as_owner(["initdb", "-D", data, "-A", "trust", "-U", "postgres"])
        self._as_owner(["pg_ctl", "-D", data, "-l", f"{self.folder}/log", "-w", "-o",
                        f"-p {self.port} -k {self.folder} -c listen_addresses='' "
                        "-c shared_buffers=512MB -c max_connections=200", "start"])
        return self

    def create_database(self, name):
        """A new, empty database on the cluster; its URL (migrations add PostGIS)."""
        with psycopg.connect(self.url, autocommit=True) as admin:
            admin.execute(f'CREATE DATABASE "{name}"')
        return with_database(self.url, name)


def start_cluster(port):
    """A started DurableCluster, or SystemExit saying what is missing."""
    missing = missing_postgresql()
    if missing:
        raise SystemExit(missing)
    return DurableCluster(port).start()
