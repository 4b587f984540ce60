"""The database engine the tests run on: SQLite files by default; PostgreSQL + PostGIS with
``pytest --engine postgresql`` (a throwaway cluster on a unix socket, started here) or with
``TEST_DATABASE_URL`` (a server of yours; the tests create and drop databases on it).

Each app gets a fresh database either way: on PostgreSQL, a copy of a template database
migrated once per run (``CREATE DATABASE ... TEMPLATE``), which takes milliseconds.
"""

import contextlib
import glob
import itertools
import os
import pwd
import queue
import shutil
import subprocess
import tempfile
import threading
import weakref
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import psycopg

from app.storage import open_database, upgrade

PREFIX = "civic_test_"
#: Each run's own template, so two runs on one server (TEST_DATABASE_URL) keep apart.
TEMPLATE = f"{PREFIX}{os.getpid()}_template"


def postgresql_bin():
    """The newest installed PostgreSQL's programs folder, or None."""
    folders = sorted(glob.glob("/usr/lib/postgresql/*/bin"),
                     key=lambda f: int(Path(f).parent.name))
    return folders[-1] if folders and os.path.exists(f"{folders[-1]}/initdb") else None


def missing_postgresql():
    """Why a PostgreSQL + PostGIS cluster cannot be started here, or None."""
    if postgresql_bin() is None:
        return ("PostgreSQL is not installed (no initdb under /usr/lib/postgresql/*/bin): "
                "apt-get install postgresql postgresql-postgis")
    if not glob.glob("/usr/share/postgresql/*/extension/postgis.control"):
        return "PostGIS is not installed: apt-get install postgresql-postgis"
    return None


def with_database(url, name):
    """The same server's URL naming another database."""
    parts = urlsplit(url)
    return urlunsplit(parts._replace(path=f"/{name}"))


class ThrowawayCluster:
    """A PostgreSQL cluster in a temporary folder, reachable only on its unix socket (no TCP
    at all), with PostGIS available; removed when stopped."""

    def __init__(self, port=55499):
        self.bin, self.port = postgresql_bin(), port
        self.folder = Path(tempfile.mkdtemp(prefix="civic-pg-"))
        self.url = f"postgresql://postgres@/postgres?host={self.folder}&port={port}"

    def start(self):
        self._as_owner(["initdb", "-D", f"{self.folder}/data", "-A", "trust", "-U",
                        "postgres", "--no-sync"])
        self._as_owner(["pg_ctl", "-D", f"{self.folder}/data", "-l", f"{self.folder}/log",
                        "-w", "-o", f"-p {self.port} -k {self.folder} -c listen_addresses='' "
                        "-c fsync=off -c synchronous_commit=off -c full_page_writes=off",
                        "start"])
        return self

    def stop(self):
        self._as_owner(["pg_ctl", "-D", f"{self.folder}/data", "-m", "immediate", "-w",
                        "stop"])
        shutil.rmtree(self.folder, ignore_errors=True)

    def _as_owner(self, command):
        """Run a server program; as root, as the ``postgres`` user (initdb refuses root)."""
        command = [f"{self.bin}/{command[0]}", *command[1:]]
        if os.geteuid() == 0:
            owner = pwd.getpwnam("postgres")
            os.chown(self.folder, owner.pw_uid, owner.pw_gid)
            command = ["runuser", "-u", "postgres", "--", *command]
        subprocess.run(command, check=True, capture_output=True)


class DatabaseFactory:
    """Fresh, migrated databases on one PostgreSQL server.

    Copying the template takes a few hundred milliseconds, so a thread of its own keeps a few
    copies ready ahead of the tests and drops the databases of apps that are gone, while the
    tests run on the other core.
    """

    READY = 3

    def __init__(self, server_url):
        self.server_url = server_url
        self._numbers = itertools.count(1)
        self._admin = psycopg.connect(server_url, autocommit=True)
        self._drop_leftovers()
        self._make_template()
        self._ready = queue.Queue(maxsize=self.READY)
        self._unused = queue.Queue()
        self._stopping = threading.Event()
        self._worker = threading.Thread(target=self._keep_ready, daemon=True)
        self._worker.start()

    def fresh(self, migrated=True):
        """The URL of a new database: a copy of the migrated template, or as empty as
        ``CREATE DATABASE`` leaves it (what a restore or ``db copy`` starts from)."""
        if migrated:
            return with_database(self.server_url, self._ready.get(timeout=120))
        name = f"{PREFIX}{os.getpid()}_{next(self._numbers)}"
        self._admin.execute(f'CREATE DATABASE "{name}"')
        return with_database(self.server_url, name)

    def drop_when_collected(self, app):
        """Drop the app's database once the app object is garbage-collected."""
        name = urlsplit(app.config["DATABASE_URL"]).path.lstrip("/")
        weakref.finalize(app, self._unused.put, name)

    def close(self):
        self._stopping.set()
        self._worker.join()
        self._drop_leftovers()
        self._admin.close()

    def _keep_ready(self):
        with psycopg.connect(self.server_url, autocommit=True) as admin:
            while not self._stopping.is_set():
                if not self._unused.empty():
                    admin.execute(f'DROP DATABASE IF EXISTS "{self._unused.get()}" WITH (FORCE)')
                elif not self._ready.full():
                    name = f"{PREFIX}{os.getpid()}_{next(self._numbers)}"
                    admin.execute(f'CREATE DATABASE "{name}" TEMPLATE {TEMPLATE} '
                                  "STRATEGY FILE_COPY")
                    self._ready.put(name)
                else:
                    self._stopping.wait(0.01)

    def _make_template(self):
        self._admin.execute(f"DROP DATABASE IF EXISTS {TEMPLATE} WITH (FORCE)")
        self._admin.execute(f"CREATE DATABASE {TEMPLATE} TEMPLATE template0 "
                            "LC_COLLATE 'C' LC_CTYPE 'C'")
        db = open_database(with_database(self.server_url, TEMPLATE))
        try:
            upgrade(db)
        finally:
            db.close()

    def _drop_leftovers(self):
        """Drop this run's databases, and those of runs whose process is gone (a run
        killed midway); another live run's databases stay."""
        names = [row[0] for row in self._admin.execute(
            "SELECT datname FROM pg_database WHERE datname LIKE %s", [PREFIX + "%"])]
        for name in names:
            if not _run_is_over_or_ours(name):
                continue
            self._admin.execute(f'DROP DATABASE "{name}" WITH (FORCE)')


def _run_is_over_or_ours(name):
    pid = int(name.removeprefix(PREFIX).split("_")[0])
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        return False
    return False


class Engine:
    """What a test's app is configured with, for the engine of this run."""

    def __init__(self, factory=None):
        self.factory = factory

    @property
    def name(self):
        return "postgresql" if self.factory else "sqlite"

    def drop_when_collected(self, app):
        """On PostgreSQL, the app's database goes when the app does (SQLite's files go with
        pytest's temporary folders)."""
        if self.factory:
            self.factory.drop_when_collected(app)

    def config(self, folder, filename="test.sqlite3", migrated=True):
        """The settings naming a fresh database for an app whose files live in ``folder``
        (on PostgreSQL, migrated unless ``migrated`` is false; a SQLite file is created, and
        migrated, only by the app)."""
        config = {"DATABASE": str(Path(folder) / filename)}
        if self.factory:
            config["DATABASE_URL"] = self.factory.fresh(migrated)
        return config


#: Set once per run by tests/conftest.py; SQLite until then.
current = Engine()


_empty_numbers = itertools.count(1)


@contextlib.contextmanager
def empty_database(server_url):
    """The URL of a new, empty database on the server, dropped after the block."""
    name = f"{PREFIX}{os.getpid()}_empty_{next(_empty_numbers)}"
    with psycopg.connect(server_url, autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
        try:
            yield with_database(server_url, name)
        finally:
            admin.execute(f'DROP DATABASE "{name}" WITH (FORCE)')


@contextlib.contextmanager
def throwaway_cluster():
    """The URL of a cluster started for the block and removed after it."""
    cluster = ThrowawayCluster().start()
    try:
        yield cluster.url
    finally:
        cluster.stop()


@contextlib.contextmanager
def postgresql_engine(server_url=None):
    """An Engine on ``server_url``, or on a throwaway cluster started for the run."""
    with contextlib.ExitStack() as stack:
        url = server_url or stack.enter_context(throwaway_cluster())
        factory = DatabaseFactory(url)
        stack.callback(factory.close)
        yield Engine(factory)
