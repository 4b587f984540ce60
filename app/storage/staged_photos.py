"""Photos uploaded before their report is sent, each owned by one browser."""

from datetime import UTC, datetime, timedelta

from app.storage import now

COLUMNS = "id, display_name, thumb_name, width, height, created_at"


def stage(db, photo_id, owner_key, photo):
    """Keep one prepared photo (its files already written) for the browser ``owner_key``."""
    db["staged_photos"].insert({
        "id": photo_id,
        "owner_key": owner_key,
        "display_name": photo.display_name,
        "thumb_name": photo.thumb_name,
        "width": photo.width,
        "height": photo.height,
        "created_at": now(),
    })


def owned(db, owner_key, photo_ids, max_age_hours):
    """The rows of those staged photos this browser owns and that have not expired, in the
    order asked; ids of another browser, expired or unknown are left out."""
    if not photo_ids:
        return []
    marks = ", ".join("?" * len(photo_ids))
    rows = {row["id"]: row for row in db.query(
        f"SELECT {COLUMNS} FROM staged_photos WHERE owner_key = ? AND created_at >= ? "
        f"AND id IN ({marks})", [owner_key, _cutoff(max_age_hours), *photo_ids])}
    return [rows[photo_id] for photo_id in photo_ids if photo_id in rows]


def count_recent(db, owner_key, max_age_hours):
    """How many photos this browser staged that have not expired."""
    return db.execute("SELECT count(*) FROM staged_photos WHERE owner_key = ? AND created_at >= ?",
                      [owner_key, _cutoff(max_age_hours)]).fetchone()[0]


def remove(db, owner_key, photo_ids):
    """Forget staged photos (sent with a report, or removed by their owner); return how many."""
    if not photo_ids:
        return 0
    marks = ", ".join("?" * len(photo_ids))
    return db.execute(f"DELETE FROM staged_photos WHERE owner_key = ? AND id IN ({marks})",
                      [owner_key, *photo_ids]).rowcount


def expire(db, max_age_hours):
    """Forget staged photos older than ``max_age_hours``; return how many."""
    with db.atomic():
        return db.execute("DELETE FROM staged_photos WHERE created_at < ?",
                          [_cutoff(max_age_hours)]).rowcount


def names(db):
    """Every file name a staged photo uses (they are kept until the photo expires)."""
    found = set()
    for row in db.query("SELECT display_name, thumb_name FROM staged_photos"):
        found.update((row["display_name"], row["thumb_name"]))
    return found


def _cutoff(max_age_hours):
    return (datetime.now(UTC) - timedelta(hours=max_age_hours)).isoformat(timespec="seconds")
