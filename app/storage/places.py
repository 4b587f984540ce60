"""The gazetteer's tables: streets with a full-text index, address points with a spatial
index (FTS5 and an R*Tree on SQLite, a tsvector and a PostGIS geometry on PostgreSQL; the
words that differ are in ``app.storage.dialect``).

A load replaces the whole set in one transaction, so a search never sees half a file.
"""

from app.storage import dialect, now

STREET_COLUMNS = "s.id, s.name, s.locality, s.name_tokens, s.locality_tokens, s.lon, s.lat"


def replace_addresses(db, streets, points, summary):
    """Store ``streets`` (dicts: id, name, locality, name_tokens, locality_tokens, lon, lat)
    and ``points`` (tuples: street_id, number, address, lon, lat) instead of the current set.

    ``summary`` (dict: source, points, skipped_no_position, skipped_outside) is kept as the
    record of the load.
    """
    with db.atomic():
        for table in (*dialect.address_index_tables(db), "addresses", "address_streets"):
            db.execute(f"DELETE FROM {table}")
        db.conn.executemany(
            "INSERT INTO address_streets (id, name, locality, name_tokens, locality_tokens, "
            "lon, lat) VALUES (:id, :name, :locality, :name_tokens, :locality_tokens, :lon, "
            ":lat)", streets)
        db.conn.executemany(
            "INSERT INTO addresses (street_id, number, address, lon, lat) "
            "VALUES (?, ?, ?, ?, ?)", points)
        for statement in dialect.address_index_fills(db):
            db.execute(statement)
        db["address_sources"].insert({**summary, "loaded_at": now()})


def address_count(db):
    return db.execute("SELECT count(*) FROM addresses").fetchone()[0]


def last_source(db):
    """The latest load's record (source, loaded_at, points, ...), or None."""
    rows = list(db.query("SELECT * FROM address_sources ORDER BY id DESC LIMIT 1"))
    return rows[0] if rows else None


def matching_streets(db, groups, limit, ranked=True):
    """Streets holding a word of every group of alternatives (``dialect.text_match``), best
    first when ``ranked`` (ranking costs a score for every match), else in index order."""
    source, best_first, index_order = dialect.streets_matching(db)
    order = best_first if ranked else index_order
    return list(db.query(
        f"SELECT {STREET_COLUMNS} FROM {source} {'ORDER BY ' + order if order else ''} "
        "LIMIT ?", [dialect.text_match(db, groups), limit]))


def numbered_matches(db, groups, number, limit):
    """Address points with house ``number`` on a street matching ``groups``, with their
    street's words: the few points of that number are read first, then kept if their street
    is among the matches (no ranking of every matching street)."""
    return list(db.query(
        "SELECT a.address, a.lon, a.lat, s.name_tokens, s.locality_tokens "
        "FROM addresses a JOIN address_streets s ON s.id = a.street_id "
        f"WHERE a.number = ? AND a.street_id IN ({dialect.street_ids_matching(db)}) "
        "ORDER BY a.id LIMIT ?", [number, dialect.text_match(db, groups), limit]))


def numbered_points(db, street_ids):
    """{street_id: [(number, lon, lat), ...]} of the numbered points on these streets."""
    found = {}
    if not street_ids:
        return found
    for street_id, number, lon, lat in db.execute(
            f"SELECT street_id, number, lon, lat FROM addresses WHERE number != '' AND "
            f"street_id IN ({', '.join('?' * len(street_ids))}) ORDER BY id", street_ids):
        found.setdefault(street_id, []).append((number, lon, lat))
    return found


def addresses_in_box(db, box):
    """Address points inside ``box`` (min_lon, min_lat, max_lon, max_lat), from the spatial
    index (maybe a little beyond: callers measure the exact distance anyway)."""
    source, params = dialect.addresses_in_box(db, box)
    return list(db.query(f"SELECT a.id, a.address, a.lon, a.lat FROM {source}", params))


def positions_in_box(db, box):
    """(id, lon, lat) of the address points inside ``box``, as tuples (cheap for many)."""
    source, params = dialect.addresses_in_box(db, box)
    return db.execute(f"SELECT a.id, a.lon, a.lat FROM {source}", params).fetchall()


def addresses_by_id(db, ids):
    """{id: address} of these address points."""
    ids = list(ids)
    found = {}
    for start in range(0, len(ids), 500):
        chunk = ids[start:start + 500]
        found.update(db.execute(
            f"SELECT id, address FROM addresses WHERE id IN ({', '.join('?' * len(chunk))})",
            chunk).fetchall())
    return found


def reports_to_geocode(db, everything=False):
    """(id, lon, lat) of the reports without an address (or of every report)."""
    where = "" if everything else "WHERE address IS NULL"
    return [tuple(row) for row in db.execute(f"SELECT id, lon, lat FROM reports {where}")]


def set_report_addresses(db, pairs):
    """Store ``(address, report_id)`` pairs in one transaction."""
    with db.atomic():
        db.conn.executemany("UPDATE reports SET address = ? WHERE id = ?", pairs)
