"""What staff read and change: the dispatch queue, a report's full record and its
handling, the statistics."""

import math
from dataclasses import dataclass, replace

from app.storage import dialect, now
from app.storage.targets import DUE_KIND, acknowledge_due, due_at, fix_due


def report(db, report_id):
    """Every field of a report, with its category, service and area, for staff."""
    rows = list(db.query(f"""
        SELECT r.*, c.code AS category_code, c.name AS category, s.code AS service_code,
               s.name AS service, a.name AS area, u.email AS assignee,
               {acknowledge_due(db)} AS acknowledge_due_at, {fix_due(db)} AS fix_due_at,
               {due_at(db)} AS due_at, {DUE_KIND} AS due_kind
        FROM reports r
        JOIN categories c ON c.id = r.category_id
        JOIN services s ON s.id = r.service_id
        JOIN service_areas a ON a.id = r.area_id
        LEFT JOIN users u ON u.id = r.assignee_id
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
    """Send the report to another service; its assignee, one of the old service's staff,
    is cleared."""
    db.execute("UPDATE reports SET service_id = ?, assignee_id = NULL, updated_at = ? "
               "WHERE id = ?", [service_id, now(), report_id])


def set_assignee(db, report_id, user_id):
    db.execute("UPDATE reports SET assignee_id = ?, updated_at = ? WHERE id = ?",
               [user_id, now(), report_id])


def set_priority(db, report_id, priority):
    db.execute("UPDATE reports SET priority = ?, updated_at = ? WHERE id = ?",
               [priority, now(), report_id])


def staff_of(db, service_ids):
    """Active staff who work on any of these services (id, email), by e-mail."""
    ids = list(service_ids)
    return list(db.query(f"""
        SELECT DISTINCT u.id, u.email FROM users u
        JOIN user_services us ON us.user_id = u.id
        WHERE u.active = 1 AND us.service_id IN ({','.join('?' * len(ids)) or 'NULL'})
        ORDER BY u.email
    """, ids))


def nearby_open(db, report, radius_m):
    """The other open reports within ``radius_m`` metres of ``report``, nearest first, with
    their distance and whether they share its category (hidden ones included: staff see
    them)."""
    lat_margin = radius_m / 111_000
    lon_margin = lat_margin / max(0.05, _cos_deg(report["lat"]))
    source, in_box, box_params = dialect.reports_in_box(db, (
        report["lon"] - lon_margin, report["lat"] - lat_margin,
        report["lon"] + lon_margin, report["lat"] + lat_margin))
    return list(db.query(f"""
        SELECT * FROM (
            SELECT r.id, r.lon, r.lat, r.status, r.address, r.created_at, r.description,
                   c.code AS category_code, c.name AS category, s.code AS service_code,
                   s.name AS service, r.service_id,
                   {dialect.distance_metres(db, "r.lon", "r.lat")} AS distance
            FROM {source}
            JOIN categories c ON c.id = r.category_id
            JOIN services s ON s.id = r.service_id
            WHERE {in_box}
              AND r.id != ? AND r.status IN ('new', 'acknowledged', 'in_progress')
              AND r.duplicate_of IS NULL
        ) AS nearby WHERE distance <= ? ORDER BY distance, id
    """, [report["lon"], report["lat"], *box_params, report["id"], radius_m]))


def _cos_deg(degrees):
    return math.cos(math.radians(degrees))


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
    """The dispatcher's selection; ``service_ids`` None means every service (admins).

    ``due_from``/``due_before`` bound the next due time (UTC ISO strings): "overdue" is
    ``due_before=now``, "due today" the city's day. ``sort`` is a key of :data:`QUEUE_SORTS`.
    """

    service_ids: tuple | None = None
    statuses: tuple = ()
    category: str | None = None
    area: str | None = None
    older_than_days: int | None = None
    text: str | None = None
    assignee_id: int | None = None
    unassigned: bool = False
    priority: str | None = None
    due_from: str | None = None
    due_before: str | None = None
    sort: str = "age"
    descending: bool = False
    #: (lon, lat): nearest first from there, overriding ``sort`` (an inspector's position).
    near: tuple | None = None


def _queue_where(db, selection):
    clauses, params = [], []
    if selection.service_ids is not None:
        clauses.append(f"r.service_id IN ({','.join('?' * len(selection.service_ids))})"
                       if selection.service_ids else "1 = 0")
        params += list(selection.service_ids)
    if selection.statuses:
        clauses.append(f"r.status IN ({','.join('?' * len(selection.statuses))})")
        params += list(selection.statuses)
    for clause, value in (("c.code = ?", selection.category), ("a.name = ?", selection.area),
                          ("r.assignee_id = ?", selection.assignee_id),
                          ("r.priority = ?", selection.priority),
                          (f"({due_at(db)}) >= ?", selection.due_from),
                          (f"({due_at(db)}) < ?", selection.due_before)):
        if value is not None:
            clauses.append(clause)
            params.append(value)
    if selection.unassigned:
        clauses.append("r.assignee_id IS NULL")
    if selection.older_than_days is not None:
        clauses.append(f"r.created_at < {dialect.now_moved_by(db)}")
        params.append(f"-{selection.older_than_days} days")
    if selection.text:
        clauses.append("(r.description LIKE ? ESCAPE '\\' OR coalesce(r.address, '') LIKE ? "
                       "ESCAPE '\\' OR CAST(r.id AS TEXT) = ?)")
        escaped = selection.text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        params += [f"%{escaped}%", f"%{escaped}%", selection.text]
    return " AND ".join(clauses) or "1 = 1", params


COUNT_FROM = """
    FROM reports r
    JOIN categories c ON c.id = r.category_id
    JOIN services s ON s.id = r.service_id
    JOIN service_areas a ON a.id = r.area_id
"""
#: The page's rows also name their assignee (counting them does not need to).
QUEUE_FROM = f"""{COUNT_FROM}
    LEFT JOIN users u ON u.id = r.assignee_id
"""

PRIORITY_RANK = ("CASE r.priority WHEN 'urgent' THEN 3 WHEN 'high' THEN 2 "
                 "WHEN 'normal' THEN 1 ELSE 0 END")
STATUS_RANK = ("CASE r.status WHEN 'new' THEN 0 WHEN 'acknowledged' THEN 1 "
               "WHEN 'in_progress' THEN 2 WHEN 'fixed' THEN 3 WHEN 'closed' THEN 4 "
               "WHEN 'duplicate' THEN 5 ELSE 6 END")
#: Sortable columns: the SQL to order by, and whether "ascending" reads it backwards (the
#: youngest report has the smallest age; the most urgent comes first). Empty values go last
#: either way. The due time's SQL is the engine's (a function of the database).
QUEUE_SORTS = {
    "number": ("r.id", False),
    "category": ("c.name", False),
    "address": ("nullif(r.address, '')", False),
    "area": ("a.name", False),
    "status": (STATUS_RANK, False),
    "age": ("r.created_at", True),
    "supports": ("r.supports", True),
    "priority": (PRIORITY_RANK, True),
    "assignee": ("u.email", False),
    "due": (due_at, False),
}


def _order_by(db, selection):
    if selection.near:
        return "distance ASC, r.id ASC"
    expression, backwards = QUEUE_SORTS.get(selection.sort, QUEUE_SORTS["age"])
    if callable(expression):
        expression = expression(db)
    direction = "DESC" if selection.descending != backwards else "ASC"
    return f"({expression}) {direction} NULLS LAST, r.id {direction}"


def queue(db, selection, offset, limit):
    """A page of the selection, with each report's next due time and, when the selection
    is ``near`` a position, its distance in metres from there."""
    where, params = _queue_where(db, selection)
    distance = dialect.distance_metres(db, "r.lon", "r.lat") if selection.near else "NULL"
    return list(db.query(f"""
        SELECT r.id, r.lon, r.lat, r.status, r.created_at, r.updated_at, r.description,
               r.hidden, r.supports, r.reporter_name, r.reporter_email, r.address,
               r.priority, r.assignee_id, u.email AS assignee, c.code AS category_code,
               c.name AS category, s.name AS service, s.code AS service_code,
               a.name AS area, {due_at(db)} AS due_at, {DUE_KIND} AS due_kind,
               {distance} AS distance
        {QUEUE_FROM} WHERE {where} ORDER BY {_order_by(db, selection)} LIMIT ? OFFSET ?
    """, [*(selection.near or ()), *params, limit, offset]))


def queue_count(db, selection):
    where, params = _queue_where(db, selection)
    return db.execute(f"SELECT count(*) {COUNT_FROM} WHERE {where}",
                      params).fetchone()[0]


def queue_status_counts(db, selection):
    """Counts per status for the selection without its status filter."""
    unfiltered = replace(selection, statuses=())
    where, params = _queue_where(db, unfiltered)
    return dict(db.execute(
        f"SELECT r.status, count(*) {COUNT_FROM} WHERE {where} GROUP BY r.status",
        params))


EXPORT_COLUMNS = ["id", "created_at", "updated_at", "status", "category", "service", "area",
                  "lon", "lat", "description", "public_description", "reporter_name",
                  "reporter_email", "show_name", "hidden", "duplicate_of", "source", "address",
                  "priority", "assignee", "due_at"]


def queue_export(db, selection):
    """Every report of the selection with staff fields, lazily, oldest first."""
    where, params = _queue_where(db, selection)
    cursor = db.conn.execute(f"""
        SELECT r.id, r.created_at, r.updated_at, r.status, c.code AS category,
               s.code AS service, a.name AS area, r.lon, r.lat, r.description,
               r.public_description, r.reporter_name, r.reporter_email, r.show_name, r.hidden,
               r.duplicate_of, r.source, r.address, r.priority, u.email AS assignee,
               {due_at(db)} AS due_at
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
