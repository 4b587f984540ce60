"""Supports ("me too") of residents for existing reports."""

import sqlite3

from app.storage import now


def add_support(db, report_id, browser_token, email_key):
    """Record a support; return False when this browser or mailbox already supported it."""
    try:
        with db.atomic():
            db["supports"].insert({"report_id": report_id, "browser_token": browser_token,
                                   "email_key": email_key, "created_at": now()})
    except sqlite3.IntegrityError:
        return False
    return True


def support_count(db, report_id):
    row = db.execute("SELECT supports FROM reports WHERE id = ?", [report_id]).fetchone()
    return row[0] if row else None
