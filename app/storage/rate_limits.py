"""Rate-limit counters shared by every server worker, in the database engine's storage.

Flask-Limiter's memory storage counts per process, so with several gunicorn workers a client
got several budgets. On SQLite (URI ``sqlite:///path``) the fixed-window counters live in
their own file, apart from the city's data: they are short-lived, need no backup, and their
writes never wait behind a report being stored. On PostgreSQL (URI: the ``DATABASE_URL``)
they live in the main database's UNLOGGED table ``rate_limit_counters``, so a client has one
budget across every app server.
"""

import abc
import os
import sqlite3
import threading
import time
import weakref

import psycopg
from limits.storage import Storage

from app.storage import BUSY_TIMEOUT_SECONDS, Database, dialect, open_database

SCHEMA = """
CREATE TABLE IF NOT EXISTS counters (
    key TEXT PRIMARY KEY,
    count INTEGER NOT NULL,
    expires_at REAL NOT NULL
);
CREATE INDEX IF NOT EXISTS counters_expiry ON counters (expires_at);
"""


class HeldConnection:
    """A thread's connection, closed when the thread or the storage goes away (a server
    connection left to the garbage collector stays open until then), but never in a
    process forked from the one that opened it: that would end the parent's session."""

    def __init__(self, db):
        self.db, self.pid = db, os.getpid()
        self.close = weakref.finalize(self, close_if_opened_here, db, self.pid)


def close_if_opened_here(db, pid):
    if os.getpid() == pid:
        db.close()


class Counters(Storage):
    """Fixed-window counters: one row per client and limit, reset when its window ends.

    The SQL both engines share; a subclass opens the connection (one per thread and per
    process: workers fork after the app is built) and names the table."""

    TABLE = "counters"

    def __init__(self, uri, wrap_exceptions=False, **options):
        super().__init__(uri, wrap_exceptions, **options)
        self._local = threading.local()

    @abc.abstractmethod
    def _open(self):
        """A new connection to the counters' database."""

    def _connection(self):
        held = getattr(self._local, "held", None)
        if held is None or held.pid != os.getpid() or held.db.connection_lost():
            held = self._local.held = HeldConnection(self._open())
        return held.db

    def close(self):
        """Close this thread's connection now (another thread's closes when it ends)."""
        held = getattr(self._local, "held", None)
        if held is not None:
            held.close()
            del self._local.held

    def incr(self, key, expiry, amount=1):
        """Count ``amount`` more in the key's window; ended windows are dropped first.

        Two transactions, each locking only its rows (never the database's write lock):
        hits on every server then never deadlock. A window that ended but was not dropped
        (another hit held it) starts again at ``amount``."""
        now = time.time()
        table, db = self.TABLE, self._connection()
        with dialect.row_lock_transaction(db):
            db.execute(f"DELETE FROM {table} WHERE key IN (SELECT key FROM {table} "
                       f"WHERE expires_at <= ? {dialect.skip_locked(db)})", [now])
        with dialect.row_lock_transaction(db):
            (count,) = db.execute(f"""
                INSERT INTO {table} (key, count, expires_at) VALUES (?, ?, ?)
                ON CONFLICT (key) DO UPDATE SET
                    count = CASE WHEN {table}.expires_at <= ? THEN excluded.count
                                 ELSE {table}.count + excluded.count END,
                    expires_at = CASE WHEN {table}.expires_at <= ? THEN excluded.expires_at
                                      ELSE {table}.expires_at END
                RETURNING count
            """, [key, amount, now + expiry, now, now]).fetchone()
        return count

    def get(self, key):
        row = self._connection().execute(
            f"SELECT count FROM {self.TABLE} WHERE key = ? AND expires_at > ?",
            [key, time.time()]).fetchone()
        return row[0] if row else 0

    def get_expiry(self, key):
        now = time.time()
        row = self._connection().execute(
            f"SELECT expires_at FROM {self.TABLE} WHERE key = ? AND expires_at > ?",
            [key, now]).fetchone()
        return row[0] if row else now

    def check(self):
        return tuple(self._connection().execute("SELECT 1").fetchone()) == (1,)

    def reset(self):
        return self._connection().execute(f"DELETE FROM {self.TABLE}").rowcount

    def clear(self, key):
        self._connection().execute(f"DELETE FROM {self.TABLE} WHERE key = ?", [key])


class SqliteCounters(Counters):
    """The counters in their own SQLite file (``RATE_LIMIT_DATABASE``)."""

    STORAGE_SCHEME = ["sqlite"]

    def __init__(self, uri, wrap_exceptions=False, **options):
        super().__init__(uri, wrap_exceptions, **options)
        self.path = uri.split("://", 1)[1]

    @staticmethod
    def uri(path):
        return f"sqlite://{path}"

    @property
    def base_exceptions(self):
        return sqlite3.Error

    def _open(self):
        """In autocommit mode; writes that belong together go through ``atomic()``."""
        db = Database(sqlite3.connect(self.path, timeout=BUSY_TIMEOUT_SECONDS,
                                      isolation_level=None))
        db.execute("PRAGMA journal_mode=WAL")
        db.execute("PRAGMA synchronous=NORMAL")  # counters need no fsync per hit
        db.executescript(SCHEMA)
        return db


class PostgresqlCounters(Counters):
    """The counters in the main PostgreSQL database (URI: its ``DATABASE_URL``), table
    ``rate_limit_counters`` (migrations/postgresql/m001_initial.sql)."""

    STORAGE_SCHEME = ["postgresql", "postgres"]
    TABLE = "rate_limit_counters"

    def __init__(self, uri, wrap_exceptions=False, **options):
        super().__init__(uri, wrap_exceptions, **options)
        self.url = uri

    @property
    def base_exceptions(self):
        return psycopg.Error

    def _open(self):
        return open_database(self.url)
