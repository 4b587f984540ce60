"""Open311 API keys: stored as sha256 hashes, so a leaked database leaks no usable key."""

import hashlib

from app.storage import now


def key_hash(key):
    return hashlib.sha256(key.encode()).hexdigest()


def create_key(db, name, key):
    db["api_keys"].insert({"name": name, "key_hash": key_hash(key), "created_at": now()})


def key_named(db, name):
    rows = list(db.query("SELECT * FROM api_keys WHERE name = ?", [name]))
    return rows[0] if rows else None


def revoke_key(db, name):
    cursor = db.execute("UPDATE api_keys SET revoked_at = ? WHERE name = ? AND revoked_at IS NULL",
                        [now(), name])
    return cursor.rowcount == 1


def key_is_valid(db, key):
    return db.execute("SELECT 1 FROM api_keys WHERE key_hash = ? AND revoked_at IS NULL",
                      [key_hash(key)]).fetchone() is not None


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
