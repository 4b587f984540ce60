"""Reports, their photos and their events (the report's history)."""

import json

from app.storage import dialect, now


def insert_report(db, report):
    """Insert one report row (a dict of column values); return its id."""
    stamp = report.get("created_at") or now()
    row = {"status": "new", "updated_at": stamp, **report, "created_at": stamp}
    return db["reports"].insert(row).last_pk


#: Reports per INSERT statement of a bulk insert: PostgreSQL's summary triggers run once per
#: statement, so each summary row is updated once per batch rather than once per report.
BULK_ROWS = 500


def insert_reports_bulk(db, reports):
    """Insert many report rows (dicts with the same keys) in one transaction, for imports,
    ``BULK_ROWS`` rows to a statement."""
    reports = list(reports)
    if not reports:
        return
    columns = list(reports[0])
    row = f"({', '.join('?' * len(columns))})"
    with db.atomic():
        for start in range(0, len(reports), BULK_ROWS):
            batch = reports[start:start + BULK_ROWS]
            db.execute(f"INSERT INTO reports ({', '.join(columns)}) "
                       f"VALUES {', '.join([row] * len(batch))}",
                       [r[c] for r in batch for c in columns])


def report_with_submission_key(db, key):
    """The id of the report sent with this form's submission key, or None."""
    row = db.execute("SELECT id FROM reports WHERE submission_key = ?", [key]).fetchone()
    return row[0] if row else None


def insert_photo(db, report_id, position, stored):
    db["photos"].insert({
        "report_id": report_id,
        "position": position,
        "display_name": stored.display_name,
        "thumb_name": stored.thumb_name,
        "width": stored.width,
        "height": stored.height,
        "created_at": now(),
    })


def add_event(db, report_id, kind, actor, at=None, from_status=None, to_status=None,
              public_note=None, internal_note=None, details=None):
    """Record one change of a report; the history of a report is its events.

    The one writer of events: empty notes are stored as none, so a page never shows a blank
    note.
    """
    db["report_events"].insert({
        "report_id": report_id,
        "kind": kind,
        "actor": actor,
        "at": at or now(),
        "from_status": from_status,
        "to_status": to_status,
        "public_note": public_note or None,
        "internal_note": internal_note or None,
        "details": json.dumps(details or {}),
    })


def public_report(db, report_id):
    """A public report with its category, service and area names, or None (also if hidden).

    The reporter's e-mail is never selected, and the name only when they chose to show it;
    a redacted description is replaced by its public text; the original of a duplicate only
    while that original is public itself.
    """
    rows = list(db.query("""
        SELECT r.id, r.lon, r.lat, coalesce(r.public_description, r.description) AS description,
               r.status, r.created_at, r.updated_at, o.id AS duplicate_of, r.supports,
               CASE WHEN r.show_name = 1 THEN r.reporter_name END AS reporter_name,
               c.code AS category_code, c.name AS category,
               s.code AS service_code, s.name AS service, a.name AS area,
               r.boundary_version_id, coalesce(r.address_string, r.address) AS address
        FROM reports r
        JOIN categories c ON c.id = r.category_id
        JOIN services s ON s.id = r.service_id
        JOIN service_areas a ON a.id = r.area_id
        LEFT JOIN reports o ON o.id = r.duplicate_of AND o.hidden = 0
        WHERE r.id = ? AND r.hidden = 0
    """, [report_id]))
    return rows[0] if rows else None


def public_duplicates(db, report_id):
    """Public reports marked as duplicates of this one."""
    return [r[0] for r in db.execute(
        "SELECT id FROM reports WHERE duplicate_of = ? AND hidden = 0 ORDER BY id", [report_id])]


def report_photos(db, report_id):
    """The public photos of a report."""
    return list(db.query(
        "SELECT position, display_name, thumb_name, width, height FROM photos "
        "WHERE report_id = ? AND hidden = 0 ORDER BY position", [report_id]
    ))


def public_events(db, report_id):
    """The public history of a report, oldest first (internal notes are left out)."""
    return list(db.query(
        "SELECT e.id, e.kind, e.at, e.from_status, e.to_status, e.public_note, "
        "u.text AS update_text FROM report_events e "
        f"LEFT JOIN report_updates u ON u.id = {dialect.json_integer(db, 'e.details', 'update')} "
        "AND u.hidden = 0 "
        "WHERE e.report_id = ? AND e.kind IN ('created', 'status', 'reassigned', 'rerouted', "
        "'update', 'reopen_requested') "
        "ORDER BY e.at, e.id", [report_id]
    ))


def history_with_authors(db, report_id, reporter_actor):
    """The public history, each event saying who made it (``changed_by``): the reporter,
    someone else from the public page, the city's staff or systems, or the system itself.
    Staff names and addresses are never selected."""
    return list(db.query(
        "SELECT e.id, e.kind, e.at, e.from_status, e.to_status, e.public_note, "
        "u.text AS update_text, CASE WHEN e.kind = 'created' OR e.actor = ? THEN 'reporter' "
        "WHEN e.kind = 'reopen_requested' THEN 'public' WHEN e.actor = 'system' THEN 'system' "
        "ELSE 'city' END AS changed_by FROM report_events e "
        f"LEFT JOIN report_updates u ON u.id = {dialect.json_integer(db, 'e.details', 'update')} "
        "AND u.hidden = 0 "
        "WHERE e.report_id = ? AND e.kind IN ('created', 'status', 'reassigned', 'rerouted', "
        "'update', 'reopen_requested') "
        "ORDER BY e.at, e.id", [reporter_actor, report_id]
    ))


def stored_photo_names(db):
    """Every photo file name a report, an update or a staged photo refers to."""
    names = set()
    for row in db.query("SELECT display_name, thumb_name FROM photos UNION ALL "
                        "SELECT display_name, thumb_name FROM report_updates "
                        "WHERE display_name IS NOT NULL UNION ALL "
                        "SELECT display_name, thumb_name FROM staged_photos"):
        names.update((row["display_name"], row["thumb_name"]))
    return names


def photo_is_referenced(db, name):
    """Whether any report, update or staged photo, public or not, uses this photo file."""
    return db.execute(
        "SELECT 1 FROM photos WHERE display_name = :name OR thumb_name = :name UNION ALL "
        "SELECT 1 FROM report_updates WHERE display_name = :name OR thumb_name = :name "
        "UNION ALL "
        "SELECT 1 FROM staged_photos WHERE display_name = :name OR thumb_name = :name LIMIT 1",
        {"name": name},
    ).fetchone() is not None


def photo_is_public(db, name):
    """Whether a public photo of a public report uses this file."""
    return db.execute(
        "SELECT 1 FROM photos p JOIN reports r ON r.id = p.report_id "
        "WHERE (p.display_name = :name OR p.thumb_name = :name) AND p.hidden = 0 "
        "AND r.hidden = 0 "
        "UNION ALL SELECT 1 FROM report_updates u JOIN reports r ON r.id = u.report_id "
        "WHERE (u.display_name = :name OR u.thumb_name = :name) AND u.hidden = 0 "
        "AND r.hidden = 0 LIMIT 1", {"name": name}
    ).fetchone() is not None


def external_ids(db, source):
    return {row[0] for row in db.execute(
        "SELECT external_id FROM reports WHERE source = ? AND external_id IS NOT NULL", [source]
    )}


def recent_reports(db, limit):
    """The newest reports with their category and status, for the home page."""
    return list(db.query("""
        SELECT r.id, r.status, r.created_at, c.code AS category_code, c.name AS category,
               a.name AS area, coalesce(r.address_string, r.address) AS address
        FROM reports r
        JOIN categories c ON c.id = r.category_id
        JOIN service_areas a ON a.id = r.area_id
        WHERE r.hidden = 0
        ORDER BY r.created_at DESC, r.id DESC
        LIMIT ?
    """, [limit]))


def report_token(db, report_id):
    return db.execute("SELECT token FROM reports WHERE id = ?", [report_id]).fetchone()[0]


def routing_rows(db):
    """Every report's position, category and current routing, for re-routing in bulk."""
    return list(db.query("""
        SELECT r.id, r.lon, r.lat, c.code AS category, r.area_id, a.name AS area_name,
               s.code AS service
        FROM reports r
        JOIN categories c ON c.id = r.category_id
        JOIN services s ON s.id = r.service_id
        JOIN service_areas a ON a.id = r.area_id
        ORDER BY r.id
    """))


def reassign(db, report_id, service_id, area_id, version_id):
    """Move a report to the area (and service) new boundaries give it; an assignee of the
    old service is cleared when the service changes."""
    db.execute(
        "UPDATE reports SET assignee_id = CASE WHEN service_id = ? THEN assignee_id END, "
        "service_id = ?, area_id = ?, boundary_version_id = ?, updated_at = ? WHERE id = ?",
        [service_id, service_id, area_id, version_id, now(), report_id],
    )
