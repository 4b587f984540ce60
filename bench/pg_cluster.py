"""A throwaway PostgreSQL + PostGIS cluster for the benchmarks.

The tests' cluster (tests/engines.py: a temporary folder, the unix socket only, no TCP at
all, removed when stopped), but with PostgreSQL's durable defaults: the tests turn fsync,
full-page writes and synchronous commit off, which would flatter every write figure.
"""

import shutil
import sys
from pathlib import Path

import psycopg

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tests.engines import ThrowawayCluster, missing_postgresql, with_database  # noqa: E402


class DurableCluster(ThrowawayCluster):
    """A cluster that commits as a production server does (fsync, synchronous commit), with
    memory settings for a machine that also runs the app servers."""

    def __init__(self, port, folder=None):
        super().__init__(port)
        if folder:
            shutil.rmtree(self.folder)
            self.folder = Path(folder).resolve()
            self.folder.mkdir(parents=True, exist_ok=True)
            self.url = f"postgresql://postgres@/postgres?host={self.folder}&port={port}"

    def start(self):
        data = f"{self.folder}/data"
        if not Path(data, "PG_VERSION").exists():
            self._as_owner(["initdb", "-D", data, "-A", "trust", "-U", "postgres"])
        self._as_owner(["pg_ctl", "-D", data, "-l", f"{self.folder}/log", "-w", "-o",
                        f"-p {self.port} -k {self.folder} -c listen_addresses='' "
                        "-c shared_buffers=512MB -c max_connections=200", "start"])
        return self

    def stop_keeping_data(self):
        """Stop the server and leave its folder for a later run (``--keep``)."""
        self._as_owner(["pg_ctl", "-D", f"{self.folder}/data", "-m", "fast", "-w", "stop"])

    def create_database(self, name):
        """A new, empty database on the cluster; its URL (migrations add PostGIS)."""
        with psycopg.connect(self.url, autocommit=True) as admin:
            admin.execute(f'CREATE DATABASE "{name}"')
        return with_database(self.url, name)

    def database(self, name):
        """The URL of database ``name``, created empty if the cluster does not have it yet."""
        with psycopg.connect(self.url, autocommit=True) as admin:
            if admin.execute("SELECT 1 FROM pg_database WHERE datname = %s",
                             (name,)).fetchone():
                return with_database(self.url, name)
        return self.create_database(name)


def start_cluster(port, folder=None):
    """A started DurableCluster (its data kept in ``folder`` when given, reused if there),
    or SystemExit saying what is missing."""
    missing = missing_postgresql()
    if missing:
        raise SystemExit(missing)
    return DurableCluster(port, folder).start()
