"""What the two engines say differently, one small function per concern.

The storage modules write one SQL text for both engines; where SQLite and PostgreSQL need
different words (time arithmetic, JSON, spatial look-ups), they ask here for the fragment of
the engine they run on (``db.dialect``). Functions SQLite has and PostgreSQL lacks under the
same name with the same meaning (``distance_m``, ``group_concat``) are created on PostgreSQL by
migrations/postgresql/functions.sql instead, so the SQL calling them stays shared.
"""

from migrations.m018_public_stats import refill_statements

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


# --- the gazetteer: full-text search of streets, address points in a box ------------------
# SQLite has the FTS5 table address_streets_fts and the R*Tree addresses_rtree beside the
# tables; PostgreSQL has address_streets.search_vector (GIN) and addresses.geom (GiST) in
# them, kept by the database itself (migrations/postgresql/m013_addresses.sql).

def text_match(db, groups):
    """The full-text expression matching streets holding a word of every group; a group is
    its alternatives ``(word, is_prefix)``. Words are folded letters and digits, so they need
    no escaping beyond the quotes.

    >>> class Engine:
    ...     dialect = "sqlite"
    >>> text_match(Engine, [[("hill", False)], [("n", True), ("north", False)]])
    '"hill" AND ("n"* OR "north")'
    >>> Engine.dialect = "postgresql"
    >>> text_match(Engine, [[("hill", False)], [("n", True), ("north", False)]])
    "'hill' & ('n':* | 'north')"
    """
    if is_postgresql(db):
        word, either, every = "'{}'{}", " | ", " & "
        prefix = ":*"
    else:
        word, either, every = '"{}"{}', " OR ", " AND "
        prefix = "*"
    parts = []
    for group in groups:
        words = [word.format(w, prefix if is_prefix else "") for w, is_prefix in group]
        parts.append(words[0] if len(words) == 1 else f"({either.join(words)})")
    return every.join(parts)


def streets_matching(db):
    """The FROM and WHERE of the streets ``s`` matching the one ``?`` (a ``text_match``),
    the ORDER BY of the best matches first (FTS5's bm25 rank; ts_rank on PostgreSQL) and the
    index order: FTS5 gives ids in ascending order unasked, PostgreSQL is told so."""
    if is_postgresql(db):
        return ("address_streets s CROSS JOIN to_tsquery('simple', ?) q "
                "WHERE s.search_vector @@ q", "ts_rank(s.search_vector, q) DESC, s.id", "s.id")
    return ("address_streets_fts f JOIN address_streets s ON s.id = f.rowid "
            "WHERE address_streets_fts MATCH ?", "f.rank", "")


def street_ids_matching(db):
    """A SELECT of the ids of the streets matching the one ``?`` (a ``text_match``)."""
    if is_postgresql(db):
        return ("SELECT id FROM address_streets "
                "WHERE search_vector @@ to_tsquery('simple', ?)")
    return "SELECT rowid FROM address_streets_fts WHERE address_streets_fts MATCH ?"


def addresses_in_box(db, box):
    """The FROM and WHERE of the address points ``a`` inside ``box`` (min_lon, min_lat,
    max_lon, max_lat), with its parameters. The R*Tree keeps 32-bit bounds, so its box is
    widened a little (callers measure the exact distance anyway); PostGIS keeps doubles."""
    min_lon, min_lat, max_lon, max_lat = box
    if is_postgresql(db):
        return ("addresses a WHERE a.geom && ST_MakeEnvelope(?, ?, ?, ?, 4326)",
                [min_lon, min_lat, max_lon, max_lat])
    pad = 1e-6
    return ("addresses_rtree t JOIN addresses a ON a.id = t.id "
            "WHERE t.min_lon <= ? AND t.max_lon >= ? AND t.min_lat <= ? AND t.max_lat >= ?",
            [max_lon + pad, min_lon - pad, max_lat + pad, min_lat - pad])


def address_index_tables(db):
    """The index tables a new set of address points replaces: SQLite's R*Tree (emptied
    first, filled last); none on PostgreSQL, whose indexes follow the tables."""
    return [] if is_postgresql(db) else ["addresses_rtree"]


def address_index_fills(db):
    """The statements that index a newly loaded set of streets and points (none on
    PostgreSQL: the tsvector and the geometry are generated columns)."""
    if is_postgresql(db):
        return []
    return ["INSERT INTO address_streets_fts(address_streets_fts) VALUES ('rebuild')",
            "INSERT INTO addresses_rtree SELECT id, lon, lon, lat, lat FROM addresses"]


# --- lists in one text column ------------------------------------------------------------

def concat_in_order(db, value, order):
    """``group_concat(value)`` with its items in ``order``: SQLite (before 3.44) takes no
    ORDER BY in an aggregate, and the queries using this read rows in that order already
    (an index scan); PostgreSQL's joins may come in any order, so it is told."""
    if is_postgresql(db):
        return f"string_agg(CAST({value} AS text), ',' ORDER BY {order})"
    return f"group_concat({value})"


# --- due times: a report's creation plus its target's hours -------------------------------
# SQLite moves a stored ISO 8601 text with strftime modifiers; PostgreSQL casts it to a
# timestamptz and adds an interval. Both give back the same ISO 8601 UTC text.

def hours_after(db, time, hours):
    """The ISO 8601 UTC text of ``time`` (a stored ISO 8601 text) plus ``hours`` (a number
    in SQL; NULL gives NULL), to the second: elapsed hours, whatever the clocks do."""
    if is_postgresql(db):
        return (f"to_char(CAST({time} AS timestamptz) AT TIME ZONE 'UTC' "
                f"+ round({hours} * 3600) * interval '1 second', {ISO_FORMAT_POSTGRESQL})")
    return (f"strftime({ISO_FORMAT_SQLITE}, {time}, "
            f"'+' || CAST(round({hours} * 3600) AS INTEGER) || ' seconds')")


# --- reports near a point: the spatial index's box, then the exact distance ---------------
# SQLite's R*Tree is the table reports_rtree; PostgreSQL has the GiST index on reports.geom.

def reports_in_box(db, box):
    """The FROM and WHERE of the reports ``r`` the spatial index finds in ``box`` (min_lon,
    min_lat, max_lon, max_lat), with its parameters: a superset (the index rounds its
    bounds outwards), so callers also compare lon and lat."""
    min_lon, min_lat, max_lon, max_lat = box
    if is_postgresql(db):
        return ("reports r", "r.geom && ST_MakeEnvelope(?, ?, ?, ?, 4326)",
                [min_lon, min_lat, max_lon, max_lat])
    return ("reports_rtree t JOIN reports r ON r.id = t.id", *_rtree_box(box))


def index_only_box(db, box):
    """The FROM and WHERE of the spatial index's entries in ``box``, read without a row of
    ``reports``, for a cheap count; None where the index keeps no boxes of its own:
    SQLite's R*Tree is a table of boxes, PostgreSQL's GiST index visits every row it
    counts."""
    if is_postgresql(db):
        return None
    return ("reports_rtree t", *_rtree_box(box))


def _rtree_box(box):
    min_lon, min_lat, max_lon, max_lat = box
    return ("t.max_lon >= ? AND t.min_lon <= ? AND t.max_lat >= ? AND t.min_lat <= ?",
            [min_lon, max_lon, min_lat, max_lat])


def distance_metres(db, lon, lat):
    """The distance in metres from the point in columns ``lon``, ``lat`` to the point of the
    two ``?`` that follow (longitude, latitude): SQLite's haversine ``distance_m``; on
    PostgreSQL ``ST_Distance`` on geography over PostGIS's sphere, whose radius is the same
    mean Earth radius, so both engines give the same metres."""
    if is_postgresql(db):
        return (f"ST_Distance(CAST(ST_MakePoint({lon}, {lat}) AS geography), "
                f"CAST(ST_MakePoint(?, ?) AS geography), false)")
    return f"distance_m({lon}, {lat}, ?, ?)"


def within_metres(db, lon, lat):
    """Whether the point in columns ``lon``, ``lat`` lies within the metres of the third
    ``?`` of the point of the first two (Open311's radius, the map's "near"): on
    PostgreSQL ``ST_DWithin`` on geography, on SQLite the haversine."""
    if is_postgresql(db):
        return (f"ST_DWithin(CAST(ST_MakePoint({lon}, {lat}) AS geography), "
                f"CAST(ST_MakePoint(?, ?) AS geography), ?, false)")
    return f"distance_m({lon}, {lat}, ?, ?) <= ?"


# --- the public map: clusters grouped by the database -------------------------------------

def integer_part(db, expression):
    """The integer part of a non-negative number, as SQLite's CAST(x AS INTEGER) gives it
    (PostgreSQL's cast rounds to the nearest)."""
    if is_postgresql(db):
        return f"CAST(trunc({expression}) AS bigint)"
    return f"CAST({expression} AS INTEGER)"


# --- the public statistics: counting every report again ----------------------------------

def stats_refill(db):
    """The statements that empty the statistics' summaries and count every report again
    (after a change of the calendar's zone). PostgreSQL counts each report with the very
    function its triggers call (migrations/postgresql/m018_public_stats.sql)."""
    if is_postgresql(db):
        return ["DELETE FROM stats_counts", "DELETE FROM stats_times",
                "SELECT count(stats_report_change(r, 1)) FROM reports r"]
    return refill_statements()


# --- writes that lock only their own rows -------------------------------------------------
# Outbox claims and rate-limit counters: workers and app servers on several machines do not
# queue behind the write lock.

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


# --- the map's points from map_features (m023): text written by the database, as bytes ---

def json_array_bytes(db, features_sql, params):
    """The rows of ``features_sql`` (one JSON text column ``f``, in order) as the UTF-8
    bytes of one JSON array, for the response as they are. SQLite joins them itself into
    one value, never decoded or encoded (group_concat, CAST AS BLOB). On PostgreSQL,
    string_agg and a bytea cost more than sending the rows: they come in binary format,
    as the bytes they are, and are joined here."""
    if is_postgresql(db):
        found = db.column_bytes(f"SELECT f FROM ({features_sql}) AS features", params)
        return b"[" + b",".join(found) + b"]"
    array = "'[' || coalesce(group_concat(f, ','), '') || ']'"
    return db.execute(f"SELECT CAST({array} AS BLOB) FROM ({features_sql}) AS features",
                      params).fetchone()[0]


def grid_order_statements(db):
    """The statements that put map_features back in its grid order, which keeps a view's
    reports on a few pages: PostgreSQL stores new rows wherever there is room and CLUSTER
    rewrites the table in its primary key's order (holding the map's reads and the report
    writes its triggers make meanwhile: a few seconds per million reports); SQLite's
    WITHOUT ROWID table is always in that order."""
    if is_postgresql(db):
        return ["CLUSTER map_features USING map_features_pkey", "ANALYZE map_features"]
    return []


def larger(db, value, bound):
    """SQLite's two-argument max(value, bound), NULL when ``bound`` is: PostgreSQL calls it
    greatest, which skips a NULL, so the NULL is kept by a CASE (``bound`` is written twice:
    it must hold no parameter)."""
    if is_postgresql(db):
        return f"CASE WHEN {bound} IS NOT NULL THEN greatest({value}, {bound}) END"
    return f"max({value}, {bound})"


def smaller(db, value, bound):
    """SQLite's two-argument min(value, bound), NULL when ``bound`` is (see :func:`larger`)."""
    if is_postgresql(db):
        return f"CASE WHEN {bound} IS NOT NULL THEN least({value}, {bound}) END"
    return f"min({value}, {bound})"
