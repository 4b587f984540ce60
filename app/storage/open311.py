"""Open311 rows: the report behind a request token, the status updates, the city's ids of
reports sent to its system, and the updates taken in from outside (each once)."""

import json

from app.storage import now


def report_for_request_token(db, token):
    """The id of the visible report created with this Open311 request token, or None.

    Only the request token answered to the API client finds a report here; the reporter's
    manage token does not, so this lookup never confirms or leaks a manage secret."""
    row = db.execute("SELECT id FROM reports WHERE request_token = ? AND hidden = 0",
                     [token]).fetchone()
    return row[0] if row else None


#: SQLite reads the window through the index on event times (m009), already in (at, id)
#: order, and stops after ``limit`` rows instead of scanning and sorting every event (a
#: test checks the plan).
STATUS_UPDATES_SQL = """
    SELECT e.id, e.report_id, e.at, e.to_status, e.public_note
    FROM report_events e JOIN reports r ON r.id = e.report_id
    WHERE e.kind IN ('status', 'created') AND r.hidden = 0 AND e.at >= ? AND e.at < ?
    ORDER BY e.at, e.id LIMIT ?
"""


def status_updates_page(db, since, until, offset, limit):
    """Public status events between two times, oldest first, ``offset`` skipped, for
    servicerequestupdates' pages."""
    return list(db.query(STATUS_UPDATES_SQL + " OFFSET ?", [since, until, limit, offset]))


def was_received(db, source, update_id):
    """Whether the update ``update_id`` from ``source`` was already taken in."""
    return db.execute("SELECT 1 FROM open311_received WHERE source = ? AND update_id = ?",
                      [source, update_id]).fetchone() is not None


def mark_received(db, source, update_id, report_id):
    db["open311_received"].insert({"source": source, "update_id": update_id,
                                   "report_id": report_id, "received_at": now()})


def report_status(db, report_id):
    """(status, hidden) of a report, or None when there is no such report."""
    return db.execute("SELECT status, hidden FROM reports WHERE id = ?", [report_id]).fetchone()


def set_remote_id(db, report_id, service_id, remote_id):
    """Remember the city's service_request_id of a report sent to one of its services."""
    db["open311_requests"].upsert({"report_id": report_id, "service_id": service_id,
                                   "remote_id": remote_id, "created_at": now()},
                                  pk=("report_id", "service_id"))


def remote_ids(db, report_id):
    """The city's ids of a report, with the service each was sent to, for staff."""
    return list(db.query(
        "SELECT s.code AS service_code, s.name AS service, o.remote_id, o.created_at "
        "FROM open311_requests o JOIN services s ON s.id = o.service_id "
        "WHERE o.report_id = ? ORDER BY o.created_at", [report_id]))


def sent_requests(db, service_id):
    """{remote_id: report_id} of every report sent to this service's city system."""
    return {row["remote_id"]: row["report_id"] for row in db.query(
        "SELECT remote_id, report_id FROM open311_requests WHERE service_id = ?",
        [service_id])}


def open_sent_requests(db, service_id):
    """The city's ids of this service's reports still open here, oldest first."""
    return [row[0] for row in db.execute(
        "SELECT o.remote_id FROM open311_requests o JOIN reports r ON r.id = o.report_id "
        "WHERE o.service_id = ? AND r.status IN ('new', 'acknowledged', 'in_progress') "
        "ORDER BY o.report_id", [service_id])]


SERVICE_COLUMNS = ("id, code, name, open311_endpoint, open311_jurisdiction, open311_key_env, "
                   "open311_service_codes, open311_statuses")


def open311_service(db, code):
    """A service with its Open311 delivery settings, or None."""
    rows = list(db.query(f"SELECT {SERVICE_COLUMNS} FROM services WHERE code = ?", [code]))
    return rows[0] if rows else None


def open311_services(db):
    """Every service delivered to a city's Open311 server, by code."""
    return list(db.query(f"SELECT {SERVICE_COLUMNS} FROM services "
                         "WHERE open311_endpoint IS NOT NULL ORDER BY code"))


def set_open311_delivery(db, code, settings):
    """Store a service's Open311 settings (a dict of the open311_* columns)."""
    assignments = ", ".join(f"{name} = ?" for name in settings)
    db.execute(f"UPDATE services SET {assignments} WHERE code = ?", [*settings.values(), code])


def report_for_city(db, report_id):
    """What a city's system is sent of a report: its fields, contact and place."""
    rows = list(db.query("""
        SELECT r.id, r.lon, r.lat, r.description, r.reporter_name, r.reporter_email,
               r.reporter_phone, r.device_id, r.account_id, r.address_string, r.address_id,
               r.address, r.media_urls, r.created_at, c.code AS category_code
        FROM reports r JOIN categories c ON c.id = r.category_id WHERE r.id = ?
    """, [report_id]))
    return rows[0] if rows else None


def staff_view(db, report):
    """What the staff page shows of Open311: the city's ids of the report, and every
    media_url a client sent."""
    return {"city_requests": remote_ids(db, report["id"]),
            "media_urls": json.loads(report["media_urls"] or "[]")}
