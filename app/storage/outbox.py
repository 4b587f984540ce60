"""The outbox: every e-mail and webhook call, written in the transaction that caused it and
sent later by the worker, with its delivery state."""

import json

from app.storage import dialect, now


def enqueue(db, message):
    """Add a message unless one with the same dedupe key exists; return whether it was added."""
    stamp = now()
    row = {"headers": "{}", "subject": "", "created_at": stamp, "next_attempt_at": stamp,
           **message}
    if isinstance(row["headers"], dict):
        row["headers"] = json.dumps(row["headers"])
    columns = list(row)
    cursor = db.execute(
        f"INSERT INTO outbox ({', '.join(columns)}) "
        f"VALUES ({', '.join('?' * len(columns))}) ON CONFLICT DO NOTHING",
        [row[c] for c in columns])
    return cursor.rowcount == 1


def event_cursor(db):
    return db.execute("SELECT event_id FROM outbox_cursor WHERE name = 'events'").fetchone()[0]


def advance_event_cursor(db, event_id):
    db.execute("UPDATE outbox_cursor SET event_id = ? WHERE name = 'events'", [event_id])


def events_after(db, event_id, limit):
    """Report events newer than the cursor, with what a notification needs of the report."""
    return list(db.query("""
        SELECT e.id AS event_id, e.kind, e.at, e.actor, e.from_status, e.to_status,
               e.public_note, e.details, r.id AS report_id, r.hidden, r.lon, r.lat,
               r.reporter_email, r.reporter_name, r.token, r.locale, r.source,
               s.code AS service_code, s.name AS service, s.email AS service_email,
               s.webhook_url AS service_webhook, s.open311_endpoint AS service_open311
        FROM report_events e
        JOIN reports r ON r.id = e.report_id
        JOIN services s ON s.id = r.service_id
        WHERE e.id > ? ORDER BY e.id LIMIT ?
    """, [event_id, limit]))


def claim_next(db, at, lease_until, max_attempts, after_id=0):
    """Take the next due message (by id, after ``after_id``) until ``lease_until`` and count
    the attempt now; None when there is none. A claim that outlives its lease (its worker
    died) is due again, unless it used the last of ``max_attempts``: see
    :func:`give_up_abandoned`.

    Workers on several machines claim at once: each skips the rows another is claiming
    (PostgreSQL's row locks), rather than queueing behind the database's write lock."""
    with dialect.row_lock_transaction(db):
        rows = list(db.query(f"""
            UPDATE outbox SET claimed_until = :lease, attempts = attempts + 1
            WHERE id = (SELECT id FROM outbox
                        WHERE state = 'pending' AND next_attempt_at <= :at AND id > :after
                          AND attempts < :max
                          AND (claimed_until IS NULL OR claimed_until <= :at)
                        ORDER BY id LIMIT 1 {dialect.skip_locked(db)})
            RETURNING *
        """, {"lease": lease_until, "at": at, "after": after_id, "max": max_attempts}))
    return rows[0] if rows else None


def give_up_abandoned(db, at, max_attempts, error):
    """Mark failed the pending messages whose every attempt was claimed and never finished
    (the worker died each time, e.g. killed mid-send); return how many."""
    with db.atomic():
        return db.execute(
            "UPDATE outbox SET state = 'failed', last_error = ?, claimed_until = NULL "
            "WHERE state = 'pending' AND attempts >= ? AND claimed_until <= ?",
            [error[:500], max_attempts, at]).rowcount


def mark_sent(db, message_id, at):
    """Record the claimed attempt as a success (claim_next counted it). Only the worker
    holding the claim writes its row, so this waits for no other writer."""
    with dialect.row_lock_transaction(db):
        db.execute("UPDATE outbox SET state = 'sent', sent_at = ?, "
                   "claimed_until = NULL, last_error = NULL WHERE id = ?", [at, message_id])


def mark_attempt_failed(db, message_id, error, next_attempt_at):
    """Record the claimed attempt (claim_next counted it) as failed: due again at
    ``next_attempt_at``, or given up when None (no wait for other writers either)."""
    with dialect.row_lock_transaction(db):
        db.execute(
            "UPDATE outbox SET last_error = :error, claimed_until = NULL, "
            "state = CASE WHEN CAST(:retry_at AS text) IS NULL THEN 'failed' "
            "ELSE 'pending' END, next_attempt_at = coalesce(:retry_at, next_attempt_at) "
            "WHERE id = :id",
            {"error": error[:500], "retry_at": next_attempt_at, "id": message_id})


def report_deliveries(db, report_id):
    """Deliveries of a report to its services, oldest first, for staff."""
    return list(db.query(
        "SELECT id, channel, recipient, state, attempts, next_attempt_at, last_error, "
        "created_at, sent_at FROM outbox WHERE report_id = ? AND purpose = 'report' "
        "ORDER BY id", [report_id]))


def state_counts(db):
    """How many messages are pending, sent and failed, per channel."""
    return list(db.query("SELECT channel, state, count(*) AS n FROM outbox "
                         "GROUP BY channel, state ORDER BY channel, state"))


def forget_recipient(db, email):
    """Delete every message to this address (privacy erase); return how many."""
    return db.execute("DELETE FROM outbox WHERE recipient = ? COLLATE NOCASE",
                      [email]).rowcount


def delete_sent_before(db, age):
    """Delete sent or failed messages created longer ago than ``age`` (a signed amount of
    time such as '-30 days'); return how many. Pending ones stay: they are still owed."""
    return db.execute(
        "DELETE FROM outbox WHERE state != 'pending' "
        f"AND created_at < {dialect.now_moved_by(db)}", [age]).rowcount


def delete_sent_confirmations_before(db, age):
    """Delete confirmation e-mails sent or failed longer ago than ``age`` (a signed amount
    of time such as '-7 days'): their link has expired, and they hold an address nobody may
    have confirmed; return how many."""
    return db.execute(
        "DELETE FROM outbox WHERE purpose = 'confirm' AND state != 'pending' "
        f"AND created_at < {dialect.now_moved_by(db)}", [age]).rowcount


def messages_about(db, report_ids):
    """Every message (sent or not) about these reports, with the fields that may quote
    their reporter, for privacy erasure."""
    marks = ", ".join("?" * len(report_ids))
    return list(db.query(
        "SELECT id, channel, recipient, subject, body, headers, last_error FROM outbox "
        f"WHERE report_id IN ({marks}) ORDER BY id", list(report_ids)))


def rewrite_message(db, message_id, subject, body, headers, last_error):
    """Replace a message's text (the scrubbed copy of what it said)."""
    db.execute("UPDATE outbox SET subject = ?, body = ?, headers = ?, last_error = ? "
               "WHERE id = ?", [subject, body, headers, last_error, message_id])


def delete_message(db, message_id):
    db.execute("DELETE FROM outbox WHERE id = ?", [message_id])
