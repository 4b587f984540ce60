"""What the two engines say differently, one small function per concern.

The storage modules write one SQL text for both engines; where SQLite and PostgreSQL need
different words (time arithmetic, JSON, spatial look-ups), they ask here for the fragment of
the engine they run on (``db.dialect``). Functions SQLite has and PostgreSQL lacks under the
same name with the same meaning (``distance_m``, ``group_concat``) are created on PostgreSQL by
migrations/postgresql/functions.sql instead, so the SQL calling them stays shared.
"""

ISO_FORMAT_SQLITE = "'%Y-%m-%dT%H:%M:%S+00:00'"
ISO_FORMAT_POSTGRESQL = "'YYYY-MM-DD\"T\"HH24:MI:SS\"+00:00\"'"


def is_postgresql(db):
    return db.dialect == "postgresql"


def now_moved_by(db):
    """The current UTC time moved by the one ``?`` parameter (``'-30 days'``,
    ``'-3600 seconds'``), as the ISO 8601 text the tables store."""
    if is_postgresql(db):
        return (f"to_char((now() AT TIME ZONE 'UTC') + CAST(? AS interval), "
                f"{ISO_FORMAT_POSTGRESQL})")
    return f"strftime({ISO_FORMAT_SQLITE}, 'now', ?)"


def json_integer(db, column, key):
    """The integer at top-level ``key`` of the JSON text in ``column`` (NULL when absent)."""
    if is_postgresql(db):
        return f"CAST(CAST({column} AS jsonb) ->> '{key}' AS bigint)"
    return f"json_extract({column}, '$.{key}')"


# Outbox claims: several workers, on several machines, take due messages at once.

def skip_locked(db):
    """The clause ending a SELECT of rows to claim: on PostgreSQL each worker locks the row
    it takes and passes over those another worker holds; SQLite has one writer at a time
    (``row_lock_transaction``), so nothing is needed."""
    return "FOR UPDATE SKIP LOCKED" if is_postgresql(db) else ""


def row_lock_transaction(db):
    """A transaction for a claim that locks only the rows it takes: on PostgreSQL a plain
    one, as the write lock of ``atomic()`` would queue every claim behind every writer and
    leave SKIP LOCKED nothing to skip; on SQLite ``atomic()``, its only way to write."""
    if is_postgresql(db):
        return db.conn.raw.transaction()
    return db.atomic()
