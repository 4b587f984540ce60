"""The gazetteer's tables: streets with a full-text index, address points with an R*Tree.

A load replaces the whole set in one transaction, so a search never sees half a file.
"""

from app.storage import now

STREET_COLUMNS = "s.id, s.name, s.locality, s.name_tokens, s.locality_tokens, s.lon, s.lat"


def replace_addresses(db, streets, points, summary):
    """Store ``streets`` (dicts: id, name, locality, name_tokens, locality_tokens, lon, lat)
    and ``points`` (tuples: street_id, number, address, lon, lat) instead of the current set.

    ``summary`` (dict: source, points, skipped_no_position, skipped_outside) is kept as the
    record of the load.
    """
    with db.atomic():
        for table in ("addresses_rtree", "addresses", "address_streets"):
            db.execute(f"DELETE FROM {table}")
        db.conn.executemany(
            "INSERT INTO address_streets (id, name, locality, name_tokens, locality_tokens, "
            "lon, lat) VALUES (:id, :name, :locality, :name_tokens, :locality_tokens, :lon, "
            ":lat)", streets)
        db.execute("INSERT INTO address_streets_fts(address_streets_fts) VALUES ('rebuild')")
        db.conn.executemany(
            "INSERT INTO addresses (street_id, number, address, lon, lat) "
            "VALUES (?, ?, ?, ?, ?)", points)
        db.execute("INSERT INTO addresses_rtree SELECT id, lon, lon, lat, lat FROM addresses")
        db["address_sources"].insert({**summary, "loaded_at": now()})


def address_count(db):
    return db.execute("SELECT count(*) FROM addresses").fetchone()[0]


def last_source(db):
    """The latest load's record (source, loaded_at, points, ...), or None."""
    rows = list(db.query("SELECT * FROM address_sources ORDER BY id DESC LIMIT 1"))
    return rows[0] if rows else None


def matching_streets(db, match, limit, ranked=True):
    """Streets whose words match the FTS5 expression ``match``, best (bm25) first when
    ``ranked`` (ranking costs a score for every match), else in index order."""
    order = "ORDER BY f.rank " if ranked else ""
    return list(db.query(
        f"SELECT {STREET_COLUMNS} FROM address_streets_fts f "
        "JOIN address_streets s ON s.id = f.rowid "
        f"WHERE address_streets_fts MATCH ? {order}LIMIT ?", [match, limit]))


def numbered_matches(db, match, number, limit):
    """Address points with house ``number`` on a street matching ``match``, with their
    street's words: the few points of that number are read first, then kept if their street
    is among the matches (no ranking of every matching street)."""
    return list(db.query(
        "SELECT a.address, a.lon, a.lat, s.name_tokens, s.locality_tokens "
        "FROM addresses a JOIN address_streets s ON s.id = a.street_id "
        "WHERE a.number = ? AND a.street_id IN "
        "(SELECT rowid FROM address_streets_fts WHERE address_streets_fts MATCH ?) "
        "ORDER BY a.id LIMIT ?", [number, match, limit]))


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
    """Address points inside ``box`` (min_lon, min_lat, max_lon, max_lat), from the R*Tree.

    The R*Tree keeps 32-bit bounds, so the box is widened a little; callers measure the
    exact distance anyway.
    """
    min_lon, min_lat, max_lon, max_lat = box
    pad = 1e-6
    return list(db.query(
        "SELECT a.id, a.address, a.lon, a.lat FROM addresses_rtree t "
        "JOIN addresses a ON a.id = t.id "
        "WHERE t.min_lon <= ? AND t.max_lon >= ? AND t.min_lat <= ? AND t.max_lat >= ?",
        [max_lon + pad, min_lon - pad, max_lat + pad, min_lat - pad]))


def positions_in_box(db, box):
    """(id, lon, lat) of the address points inside ``box``, as tuples (cheap for many)."""
    min_lon, min_lat, max_lon, max_lat = box
    return db.execute(
        "SELECT a.id, a.lon, a.lat FROM addresses_rtree t JOIN addresses a ON a.id = t.id "
        "WHERE t.min_lon <= ? AND t.max_lon >= ? AND t.min_lat <= ? AND t.max_lat >= ?",
        [max_lon + 1e-6, min_lon - 1e-6, max_lat + 1e-6, min_lat - 1e-6]).fetchall()


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
