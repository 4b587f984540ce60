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


def index_hint(db, index):
    """SQLite's ``INDEXED BY``, for a query whose best index its planner misses; PostgreSQL's
    planner has statistics and needs no hint (and has no such clause)."""
    return "" if is_postgresql(db) else f"INDEXED BY {index}"


def flag_off(db, column):
    """``column`` (a 0/1 flag) is 0, written as SQLite's partial indexes of m018 write it
    (``NOT hidden``): SQLite uses a partial index only when the query repeats its terms."""
    return f"{column} = 0" if is_postgresql(db) else f"NOT {column}"


# Writes that lock only the rows they touch (outbox claims, rate-limit counters), so that
# workers and app servers on several machines do not queue behind the write lock.

def skip_locked(db):
    """The clause ending a SELECT of rows to claim: on PostgreSQL each worker locks the rows
    it takes and passes over those another one holds; SQLite has one writer at a time
    (``row_lock_transaction``), so nothing is needed."""
    return "FOR UPDATE SKIP LOCKED" if is_postgresql(db) else ""


def row_lock_transaction(db):
    """A transaction for writes that lock only their own rows (no trigger of theirs touches
    a shared row): on PostgreSQL a plain one, as the write lock of ``atomic()`` (and of a
    lone write) would queue every outbox claim and every rate-limit hit behind every writer
    and leave SKIP LOCKED nothing to skip; on SQLite ``atomic()``, its only way to write."""
    if is_postgresql(db):
        return db.conn.raw.transaction()
    return db.atomic()
