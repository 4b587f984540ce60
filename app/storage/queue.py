"""What staff read and change: the dispatch queue, a report's full record and its
handling, the statistics."""

from dataclasses import dataclass, replace

from app.storage import now


def report(db, report_id):
    """Every field of a report, with its category, service and area, for staff."""
    rows = list(db.query("""
        SELECT r.*, c.code AS category_code, c.name AS category, s.code AS service_code,
               s.name AS service, a.name AS area
        FROM reports r
        JOIN categories c ON c.id = r.category_id
        JOIN services s ON s.id = r.service_id
        JOIN service_areas a ON a.id = r.area_id
        WHERE r.id = ?
    """, [report_id]))
    return rows[0] if rows else None


def duplicates_of(db, report_id):
    return [r[0] for r in db.execute("SELECT id FROM reports WHERE duplicate_of = ? ORDER BY id",
                                     [report_id])]


def all_photos(db, report_id):
    return list(db.query("SELECT position, display_name, thumb_name, hidden FROM photos "
                         "WHERE report_id = ? ORDER BY position", [report_id]))


def all_events(db, report_id):
    return list(db.query("SELECT * FROM report_events WHERE report_id = ? ORDER BY at, id",
                         [report_id]))


def set_status(db, report_id, status):
    db.execute("UPDATE reports SET status = ?, updated_at = ? WHERE id = ?",
               [status, now(), report_id])


def set_service(db, report_id, service_id):
    db.execute("UPDATE reports SET service_id = ?, updated_at = ? WHERE id = ?",
               [service_id, now(), report_id])


def set_duplicate_of(db, report_id, original_id):
    db.execute("UPDATE reports SET duplicate_of = ? WHERE id = ?", [original_id, report_id])


def set_hidden(db, report_id, hidden):
    db.execute("UPDATE reports SET hidden = ?, updated_at = ? WHERE id = ?",
               [int(hidden), now(), report_id])


def set_photo_hidden(db, report_id, position, hidden):
    cursor = db.execute("UPDATE photos SET hidden = ? WHERE report_id = ? AND position = ?",
                        [int(hidden), report_id, position])
    return cursor.rowcount == 1


def set_public_description(db, report_id, text):
    db.execute("UPDATE reports SET public_description = ?, updated_at = ? WHERE id = ?",
               [text, now(), report_id])


@dataclass(frozen=True)
class QueueFilter:
    """The dispatcher's selection; ``service_ids`` None means every service (admins)."""

    service_ids: tuple | None = None
    statuses: tuple = ()
    category: str | None = None
    area: str | None = None
    older_than_days: int | None = None
    text: str | None = None
    order: str = "newest"


def _queue_where(selection):
    clauses, params = [], []
    if selection.service_ids is not None:
        clauses.append(f"r.service_id IN ({','.join('?' * len(selection.service_ids))})"
                       if selection.service_ids else "0")
        params += list(selection.service_ids)
    if selection.statuses:
        clauses.append(f"r.status IN ({','.join('?' * len(selection.statuses))})")
        params += list(selection.statuses)
    if selection.category:
        clauses.append("c.code = ?")
        params.append(selection.category)
    if selection.area:
        clauses.append("a.name = ?")
        params.append(selection.area)
    if selection.older_than_days is not None:
        clauses.append("r.created_at < strftime('%Y-%m-%dT%H:%M:%S+00:00', 'now', ?)")
        params.append(f"-{selection.older_than_days} days")
    if selection.text:
        clauses.append("(r.description LIKE ? ESCAPE '\\' OR CAST(r.id AS TEXT) = ?)")
        escaped = selection.text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        params += [f"%{escaped}%", selection.text]
    return " AND ".join(clauses) or "1", params


QUEUE_FROM = """
    FROM reports r
    JOIN categories c ON c.id = r.category_id
    JOIN services s ON s.id = r.service_id
    JOIN service_areas a ON a.id = r.area_id
"""


QUEUE_ORDERS = {
    "newest": "r.created_at DESC, r.id DESC",
    "oldest": "r.created_at ASC, r.id ASC",
    "supported": "r.supports DESC, r.created_at ASC, r.id ASC",
}


def queue(db, selection, offset, limit):
    where, params = _queue_where(selection)
    order = QUEUE_ORDERS.get(selection.order, QUEUE_ORDERS["newest"])
    return list(db.query(f"""
        SELECT r.id, r.lon, r.lat, r.status, r.created_at, r.updated_at, r.description,
               r.hidden, r.supports, r.reporter_name, r.reporter_email, r.address,
               c.name AS category,
               s.name AS service, s.code AS service_code, a.name AS area
        {QUEUE_FROM} WHERE {where} ORDER BY {order} LIMIT ? OFFSET ?
    """, [*params, limit, offset]))


def queue_count(db, selection):
    where, params = _queue_where(selection)
    return db.execute(f"SELECT count(*) {QUEUE_FROM} WHERE {where}", params).fetchone()[0]


def queue_status_counts(db, selection):
    """Counts per status for the selection without its status filter."""
    unfiltered = replace(selection, statuses=())
    where, params = _queue_where(unfiltered)
    return dict(db.execute(
        f"SELECT r.status, count(*) {QUEUE_FROM} WHERE {where} GROUP BY r.status", params))


EXPORT_COLUMNS = ["id", "created_at", "updated_at", "status", "category", "service", "area",
                  "lon", "lat", "description", "public_description", "reporter_name",
                  "reporter_email", "show_name", "hidden", "duplicate_of", "source"]


def queue_export(db, selection):
    """Every report of the selection with staff fields, lazily, oldest first."""
    where, params = _queue_where(selection)
    cursor = db.conn.execute(f"""
        SELECT r.id, r.created_at, r.updated_at, r.status, c.code AS category,
               s.code AS service, a.name AS area, r.lon, r.lat, r.description,
               r.public_description, r.reporter_name, r.reporter_email, r.show_name, r.hidden,
               r.duplicate_of, r.source
        {QUEUE_FROM} WHERE {where} ORDER BY r.created_at, r.id
    """, params)
    names = [d[0] for d in cursor.description]
    for row in cursor:
        yield dict(zip(names, row, strict=True))


def areas_of(db, service_ids):
    """Names of the areas in force of these services (all services when None)."""
    sql = "SELECT DISTINCT name FROM service_areas WHERE retired_version_id IS NULL"
    params = []
    if service_ids is not None:
        sql += f" AND service_id IN ({','.join('?' * len(service_ids)) or 'NULL'})"
        params = list(service_ids)
    return sorted(r[0] for r in db.execute(sql, params))


def first_transitions(db, service_ids):
    """Per report: service, category, created, status, and when it was first acknowledged
    and first fixed (from its events), for the statistics."""
    where = ""
    params = []
    if service_ids is not None:
        where = f"WHERE r.service_id IN ({','.join('?' * len(service_ids)) or 'NULL'})"
        params = list(service_ids)
    return db.query(f"""
        SELECT s.code AS service_code, s.name AS service, c.code AS category_code,
               c.name AS category, r.status, r.created_at,
               (SELECT min(e.at) FROM report_events e WHERE e.report_id = r.id
                  AND e.kind = 'status' AND e.to_status != 'new') AS acknowledged_at,
               (SELECT min(e.at) FROM report_events e WHERE e.report_id = r.id
                  AND e.kind = 'status' AND e.to_status = 'fixed') AS fixed_at
        FROM reports r
        JOIN categories c ON c.id = r.category_id
        JOIN services s ON s.id = r.service_id
        {where}
    """, params)
