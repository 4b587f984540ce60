"""Supports ("me too") of residents for existing reports.

A support counts on the report (a trigger adds it to ``reports.supports``) once its
``confirmed_at`` is set: at once for a browser's support, when its owner confirms for a
support given with an e-mail.
"""


from app.storage import IntegrityError, dialect, now


def add_browser_support(db, report_id, browser_token):
    """Count a support from this browser; return False when it already supported it."""
    stamp = now()
    try:
        with db.atomic():
            db["supports"].insert({"report_id": report_id, "browser_token": browser_token,
                                   "confirmed_at": stamp, "created_at": stamp})
    except IntegrityError:
        return False
    return True


def mailbox_token(db, report_id, email_key):
    """The confirmation token of this mailbox's support of the report, confirmed or not."""
    row = db.execute("SELECT confirm_token FROM supports WHERE report_id = ? AND email_key = ?",
                     [report_id, email_key]).fetchone()
    return row[0] if row else None


def add_unconfirmed(db, report_id, email_key, confirm_token):
    """A support from a mailbox, not counted until :func:`confirm`."""
    db["supports"].insert({"report_id": report_id, "email_key": email_key,
                           "confirm_token": confirm_token, "created_at": now()})


def by_confirm_token(db, token):
    rows = list(db.query("SELECT * FROM supports WHERE confirm_token = ?", [token]))
    return rows[0] if rows else None


def confirm(db, support_id):
    """Count the support, unless it already counts."""
    db.execute("UPDATE supports SET confirmed_at = ? WHERE id = ? AND confirmed_at IS NULL",
               [now(), support_id])


def delete_unconfirmed_before(db, age):
    """Delete supports never confirmed, asked for longer ago than ``age`` (a signed
    amount of time such as '-7 days'); return how many."""
    return db.execute("DELETE FROM supports WHERE confirmed_at IS NULL "
                      f"AND created_at < {dialect.now_moved_by(db)}", [age]).rowcount


def support_count(db, report_id):
    row = db.execute("SELECT supports FROM reports WHERE id = ?", [report_id]).fetchone()
    return row[0] if row else None
