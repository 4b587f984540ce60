"""All SQL lives in this package, in functions named by intent.

Views and services call these functions and never write SQL. Two engines run it: an
embedded SQLite file (the default) and PostgreSQL + PostGIS (``DATABASE_URL``), behind the
same names; ``postgresql`` adapts the connection, ``dialect`` holds what differs.
"""

import contextlib
import math
import sqlite3
from datetime import UTC, datetime
from pathlib import Path

import psycopg
import sqlite_utils

import migrations

#: A write refused by a UNIQUE, CHECK or FOREIGN KEY constraint, on either engine.
IntegrityError = (sqlite3.IntegrityError, psycopg.errors.IntegrityError)
#: Any error the database engine raises (its file or server unreachable, a refused query).
DatabaseError = (sqlite3.Error, psycopg.Error)

BUSY_TIMEOUT_SECONDS = 15


class Database(sqlite_utils.Database):
    """sqlite-utils' Database whose outermost ``atomic()`` takes the write lock up front.

    A deferred transaction that reads before it writes gets "database is locked" at once,
    without waiting, when another process committed in between (WAL snapshot conflict);
    BEGIN IMMEDIATE waits for the lock within the busy timeout instead. Nested blocks stay
    savepoints.
    """

    dialect = "sqlite"

    def connection_lost(self):
        """A file connection is never lost (the file's identity is checked instead)."""
        return False

    @contextlib.contextmanager
    def atomic(self):
        if self.conn.in_transaction:
            with super().atomic():
                yield self
            return
        self.conn.execute("BEGIN IMMEDIATE")
        try:
            yield self
        except BaseException:
            if self.conn.in_transaction:
                self.conn.execute("ROLLBACK")
            raise
        self.conn.execute("COMMIT")


def database_path(app):
    """The app's SQLite file: DATABASE in its instance folder (an absolute path stays)."""
    return Path(app.instance_path) / app.config["DATABASE"]


def database_target(app):
    """What ``open_database`` opens for the app: the ``DATABASE_URL`` of a PostgreSQL server
    when set, else the SQLite file."""
    url = app.config.get("DATABASE_URL") or ""
    if url.startswith("sqlite:///"):
        return Path(app.instance_path) / url.removeprefix("sqlite:///")
    return url if is_postgresql(url) else database_path(app)


def is_postgresql(target):
    return str(target).startswith(("postgresql://", "postgres://"))


def open_database(target):
    """Open the database: a ``postgresql://`` URL, or the path of a SQLite file."""
    if is_postgresql(target):
        from app.storage import postgresql

        return postgresql.Database(str(target))
    return open_sqlite(target)


def open_sqlite(path):
    """Open the SQLite file with WAL, foreign keys and a busy timeout for concurrent writers.

    ``secure_delete`` zeroes deleted and overwritten content, so an erased address does not
    linger in free pages of the file (or of the WAL copies of those pages).
    """
    connection = sqlite3.connect(str(path), timeout=BUSY_TIMEOUT_SECONDS, check_same_thread=False)
    db = Database(connection)
    db.execute("PRAGMA secure_delete=ON")
    db.execute("PRAGMA journal_mode=WAL")
    db.execute("PRAGMA foreign_keys=ON")
    db.execute("PRAGMA synchronous=NORMAL")
    db.register_function(distance_m, deterministic=True)
    return db


EARTH_RADIUS_M = 6_371_008.8


def distance_m(lon1, lat1, lon2, lat2):
    """Great-circle distance in metres (haversine), usable in SQL as distance_m(...)."""
    lon1, lat1, lon2, lat2 = map(math.radians, (lon1, lat1, lon2, lat2))
    a = (math.sin((lat2 - lat1) / 2) ** 2
         + math.cos(lat1) * math.cos(lat2) * math.sin((lon2 - lon1) / 2) ** 2)
    return 2 * EARTH_RADIUS_M * math.asin(min(1.0, math.sqrt(a)))


def upgrade(db):
    """Apply pending migrations; return the names applied."""
    if db.dialect == "postgresql":
        return migrations.apply_postgresql(db, now())
    pending = [m.name for m in migrations.migrations.pending(db)]
    migrations.migrations.apply(db)
    return pending


def pending_migrations(db):
    if db.dialect == "postgresql":
        return migrations.pending_postgresql(db)
    return [m.name for m in migrations.migrations.pending(db)]


def now():
    """The current time as an ISO 8601 string in UTC with its offset."""
    return datetime.now(UTC).isoformat(timespec="seconds")


def row_counts(db, tables=("reports", "photos", "report_events", "report_updates", "supports",
                           "subscriptions", "outbox", "report_answers",
                           "staged_photos")):
    """Rows per table; tests compare these before and after a rejected request."""
    return {table: db.execute(f"SELECT count(*) FROM [{table}]").fetchone()[0] for table in tables}
