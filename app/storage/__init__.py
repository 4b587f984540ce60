"""All SQL lives in this package, in functions named by intent.

Views and services call these functions and never write SQL, so another engine can be added
behind the same names.
"""

import sqlite3
from datetime import UTC, datetime

import sqlite_utils

from migrations import migrations

BUSY_TIMEOUT_SECONDS = 15


def open_database(path):
    """Open the SQLite file with WAL, foreign keys and a busy timeout for concurrent writers."""
    connection = sqlite3.connect(str(path), timeout=BUSY_TIMEOUT_SECONDS, check_same_thread=False)
    db = sqlite_utils.Database(connection)
    db.execute("PRAGMA journal_mode=WAL")
    db.execute("PRAGMA foreign_keys=ON")
    db.execute("PRAGMA synchronous=NORMAL")
    return db


def upgrade(db):
    """Apply pending migrations; return the names applied."""
    pending = [m.name for m in migrations.pending(db)]
    migrations.apply(db)
    return pending


def pending_migrations(db):
    return [m.name for m in migrations.pending(db)]


def now():
    """The current time as an ISO 8601 string in UTC with its offset."""
    return datetime.now(UTC).isoformat(timespec="seconds")


def row_counts(db, tables=("reports", "photos", "report_events")):
    """Rows per table; tests compare these before and after a rejected request."""
    return {table: db.execute(f"SELECT count(*) FROM [{table}]").fetchone()[0] for table in tables}
