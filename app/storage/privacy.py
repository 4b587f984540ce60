"""Finding and removing reporters' contact data."""

import re

from app.storage import now
from app.storage.reports import add_event


def reports_with_email(db, email):
    return [r[0] for r in db.execute(
        "SELECT id FROM reports WHERE reporter_email = ? COLLATE NOCASE ORDER BY id", [email])]


def reports_with_phone_digits(db, digits):
    """Reports whose phone has these digits, whatever spaces, dots or brackets it holds."""
    return [report_id for report_id, phone in db.execute(
        "SELECT id, reporter_phone FROM reports WHERE reporter_phone IS NOT NULL ORDER BY id")
        if re.sub(r"\D", "", phone) == digits]


def reports_with_contact_before(db, age):
    """Reports older than ``age`` (an SQLite modifier such as '-24 months') with contact data."""
    return [r[0] for r in db.execute(
        "SELECT id FROM reports WHERE (reporter_email IS NOT NULL OR reporter_name IS NOT NULL "
        "OR reporter_phone IS NOT NULL) "
        "AND created_at < strftime('%Y-%m-%dT%H:%M:%S+00:00', 'now', ?) ORDER BY id", [age])]


def anonymise(db, report_ids, actor, reason):
    """Clear e-mail, name and phone of these reports, each with an event saying why."""
    stamp = now()
    for report_id in report_ids:
        db.execute("UPDATE reports SET reporter_email = NULL, reporter_name = NULL, "
                   "reporter_phone = NULL, show_name = 0 WHERE id = ?", [report_id])
        add_event(db, report_id, "contact_erased", actor, at=stamp,
                  details={"reason": reason})


def contacts_of(db, report_ids):
    """The e-mails, names and phones these reports hold, to scrub from messages about them."""
    found = set()
    for report_id in report_ids:
        row = db.execute("SELECT reporter_email, reporter_name, reporter_phone FROM reports "
                         "WHERE id = ?", [report_id]).fetchone()
        found.update(value for value in row if value)
    return found


def forget_supporter_key(db, email_key):
    """Delete this mailbox's unconfirmed "me too" and clear its keyed hash from the
    confirmed ones (they still count); return how many supports changed."""
    dropped = db.execute("DELETE FROM supports WHERE email_key = ? AND confirmed_at IS NULL",
                         [email_key]).rowcount
    return dropped + db.execute("UPDATE supports SET email_key = NULL WHERE email_key = ?",
                                [email_key]).rowcount


def forget_supporters_before(db, age):
    """Clear the mailbox hash of supports older than ``age`` (an SQLite modifier)."""
    return db.execute(
        "UPDATE supports SET email_key = NULL WHERE email_key IS NOT NULL "
        "AND created_at < strftime('%Y-%m-%dT%H:%M:%S+00:00', 'now', ?)", [age]).rowcount


#: The tables whose rows held the contact data an erasure or retention removes.
ERASED_TABLES = ("reports", "supports", "subscriptions", "outbox")


def checkpoint(db):
    """Copy the WAL into the database file and truncate it to zero bytes, so erased data
    does not survive in old WAL frames; return whether it completed (False: a reader held
    the WAL past the busy timeout).

    On PostgreSQL an UPDATE leaves the old row version in place until VACUUM prunes it:
    the changed tables are vacuumed now rather than at autovacuum's next pass (VACUUM waits
    for no writer, and runs outside a transaction, as this does)."""
    if db.dialect == "postgresql":
        db.execute("VACUUM " + ", ".join(ERASED_TABLES))
        return True
    busy, _, _ = db.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()
    return busy == 0
