"""Residents' updates to reports, shown in the public history unless staff hide them."""

from app.storage import now


def add_update(db, report_id, author, text, photo=None):
    return db["report_updates"].insert({
        "report_id": report_id, "author": author, "text": text,
        "display_name": photo.display_name if photo else None,
        "thumb_name": photo.thumb_name if photo else None,
        "created_at": now(),
    }).last_pk


def public_updates(db, report_id):
    return list(db.query(
        "SELECT id, author, text, display_name, thumb_name, created_at FROM report_updates "
        "WHERE report_id = ? AND hidden = 0 ORDER BY created_at, id", [report_id]))


def all_updates(db, report_id):
    return list(db.query("SELECT * FROM report_updates WHERE report_id = ? "
                         "ORDER BY created_at, id", [report_id]))


def set_update_hidden(db, report_id, update_id, hidden):
    cursor = db.execute("UPDATE report_updates SET hidden = ? WHERE id = ? AND report_id = ?",
                        [int(hidden), update_id, report_id])
    return cursor.rowcount == 1
