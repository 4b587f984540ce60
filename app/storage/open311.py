"""Open311 reads of their own: the report behind a request token, the status updates."""


def report_for_request_token(db, token):
    """The id of the visible report created with this Open311 request token, or None.

    Only the request token answered to the API client finds a report here; the reporter's
    manage token does not, so this lookup never confirms or leaks a manage secret."""
    row = db.execute("SELECT id FROM reports WHERE request_token = ? AND NOT hidden",
                     [token]).fetchone()
    return row[0] if row else None


#: SQLite reads the window through the index on event times (m009), already in (at, id)
#: order, and stops after ``limit`` rows instead of scanning and sorting every event (a
#: test checks the plan).
STATUS_UPDATES_SQL = """
    SELECT e.id, e.report_id, e.at, e.to_status, e.public_note
    FROM report_events e JOIN reports r ON r.id = e.report_id
    WHERE e.kind IN ('status', 'created') AND NOT r.hidden AND e.at >= ? AND e.at < ?
    ORDER BY e.at, e.id LIMIT ?
"""


def status_updates(db, since, until, limit):
    """Public status events between two times, oldest first, for servicerequestupdates."""
    return list(db.query(STATUS_UPDATES_SQL, [since, until, limit]))
