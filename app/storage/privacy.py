"""Finding and removing reporters' contact data."""

import json

from app.storage import now


def reports_with_email(db, email):
    return [r[0] for r in db.execute(
        "SELECT id FROM reports WHERE reporter_email = ? COLLATE NOCASE ORDER BY id", [email])]


def reports_with_contact_before(db, age):
    """Reports older than ``age`` (an SQLite modifier such as '-24 months') with contact data."""
    return [r[0] for r in db.execute(
        "SELECT id FROM reports WHERE (reporter_email IS NOT NULL OR reporter_name IS NOT NULL) "
        "AND created_at < strftime('%Y-%m-%dT%H:%M:%S+00:00', 'now', ?) ORDER BY id", [age])]


def anonymise(db, report_ids, actor, reason):
    """Clear e-mail and name of these reports, each with an event saying why."""
    stamp = now()
    for report_id in report_ids:
        db.execute("UPDATE reports SET reporter_email = NULL, reporter_name = NULL, "
                   "show_name = 0 WHERE id = ?", [report_id])
        db["report_events"].insert({
            "report_id": report_id, "kind": "contact_erased", "actor": actor, "at": stamp,
            "details": json.dumps({"reason": reason}),
        })


def forget_supporter(db, email):
    """Clear this e-mail from "me too" supports (the supports still count); return how many."""
    return db.execute("UPDATE supports SET email = NULL WHERE email = ? COLLATE NOCASE",
                      [email]).rowcount
