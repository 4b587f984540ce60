"""Rate-limit counters in a small SQLite file, shared by every server worker.

Flask-Limiter's memory storage counts per process, so with several gunicorn workers a client
got several budgets. This storage (URI ``sqlite:///path``) keeps fixed-window counters in
their own file, apart from the city's data: they are short-lived, need no backup, and their
writes never wait behind a report being stored.
"""

import os
import sqlite3
import threading
import time

from limits.storage import Storage

from app.storage import BUSY_TIMEOUT_SECONDS, Database

SCHEMA = """
CREATE TABLE IF NOT EXISTS counters (
    key TEXT PRIMARY KEY,
    count INTEGER NOT NULL,
    expires_at REAL NOT NULL
);
CREATE INDEX IF NOT EXISTS counters_expiry ON counters (expires_at);
"""


class SqliteCounters(Storage):
    """Fixed-window counters: one row per client and limit, reset when its window ends."""

    STORAGE_SCHEME = ["sqlite"]

    def __init__(self, uri, wrap_exceptions=False, **options):
        super().__init__(uri, wrap_exceptions, **options)
        self.path = uri.split("://", 1)[1]
        self._local = threading.local()

    @staticmethod
    def uri(path):
        return f"sqlite://{path}"

    @property
    def base_exceptions(self):
        return sqlite3.Error

    def _connection(self):
        """One connection per thread and per process (workers fork after the app is built),
        in autocommit mode; writes that belong together go through ``atomic()``."""
        pid, db = getattr(self._local, "opened", (None, None))
        if pid != os.getpid():
            db = Database(sqlite3.connect(self.path, timeout=BUSY_TIMEOUT_SECONDS,
                                          isolation_level=None))
            db.execute("PRAGMA journal_mode=WAL")
            db.execute("PRAGMA synchronous=NORMAL")  # counters need no fsync per hit
            db.executescript(SCHEMA)
            self._local.opened = (os.getpid(), db)
        return db

    def incr(self, key, expiry, amount=1):
        """Count ``amount`` more in the key's window; ended windows are dropped first."""
        now = time.time()
        db = self._connection()
        with db.atomic():
            db.execute("DELETE FROM counters WHERE expires_at <= ?", [now])
            (count,) = db.execute("""
                INSERT INTO counters (key, count, expires_at) VALUES (?, ?, ?)
                ON CONFLICT (key) DO UPDATE SET count = count + excluded.count
                RETURNING count
            """, [key, amount, now + expiry]).fetchone()
        return count

    def get(self, key):
        row = self._connection().execute(
            "SELECT count FROM counters WHERE key = ? AND expires_at > ?",
            [key, time.time()]).fetchone()
        return row[0] if row else 0

    def get_expiry(self, key):
        now = time.time()
        row = self._connection().execute(
            "SELECT expires_at FROM counters WHERE key = ? AND expires_at > ?",
            [key, now]).fetchone()
        return row[0] if row else now

    def check(self):
        return self._connection().execute("SELECT 1").fetchone() == (1,)

    def reset(self):
        return self._connection().execute("DELETE FROM counters").rowcount

    def clear(self, key):
        self._connection().execute("DELETE FROM counters WHERE key = ?", [key])
