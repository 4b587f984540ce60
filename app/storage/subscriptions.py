"""E-mail alert subscriptions: to one report, to a radius around a point, to a service area."""

from app.storage import dialect, now

ACTIVE = "s.confirmed_at IS NOT NULL AND s.unsubscribed_at IS NULL"


def find_same(db, email, target):
    """A still-active subscription of this address to the same target (to re-confirm)."""
    clauses = " AND ".join(f"{column} IS NOT DISTINCT FROM ?" for column in target)
    rows = list(db.query(
        f"SELECT * FROM subscriptions WHERE email = ? COLLATE NOCASE AND {clauses} "
        "AND unsubscribed_at IS NULL ORDER BY id DESC LIMIT 1",
        [email, *target.values()]))
    return rows[0] if rows else None


def insert(db, row):
    return db["subscriptions"].insert({**row, "created_at": now()}).last_pk


def take_confirmation_turn(db, subscription_id, interval):
    """Note that a confirmation e-mail is queued now, unless one was queued within
    ``interval`` (a signed amount of time such as '-1 day'); return whether it may be sent."""
    return db.execute(
        "UPDATE subscriptions SET confirmation_sent_at = ? WHERE id = ? "
        "AND (confirmation_sent_at IS NULL OR confirmation_sent_at "
        f"< {dialect.now_moved_by(db)})", [now(), subscription_id, interval]).rowcount == 1


def recently_confirmed_emails(db, target, interval, except_id):
    """Addresses of the other unconfirmed requests for this target whose confirmation
    e-mail was queued within ``interval`` (a signed amount of time such as '-1 day')."""
    clauses = " AND ".join(f"{column} IS NOT DISTINCT FROM ?" for column in target)
    return [row[0] for row in db.execute(
        f"SELECT email FROM subscriptions WHERE {clauses} AND id != ? "
        f"AND confirmed_at IS NULL AND confirmation_sent_at >= {dialect.now_moved_by(db)}",
        [*target.values(), except_id, interval])]


def by_token(db, token):
    rows = list(db.query("SELECT * FROM subscriptions WHERE token = ?", [token]))
    return rows[0] if rows else None


def confirm(db, subscription_id):
    db.execute("UPDATE subscriptions SET confirmed_at = coalesce(confirmed_at, ?) WHERE id = ?",
               [now(), subscription_id])


def unsubscribe(db, subscription_id):
    db.execute("UPDATE subscriptions SET unsubscribed_at = coalesce(unsubscribed_at, ?) "
               "WHERE id = ?", [now(), subscription_id])


def report_subscribers(db, report_id):
    return list(db.query(
        f"SELECT * FROM subscriptions s WHERE kind = 'report' AND report_id = ? AND {ACTIVE}",
        [report_id]))


def radius_subscribers(db, lon, lat):
    """Radius subscriptions whose circle holds the point (great-circle metres)."""
    return list(db.query(
        f"SELECT * FROM subscriptions s WHERE kind = 'radius' AND {ACTIVE} "
        "AND distance_m(lon, lat, ?, ?) <= radius_m", [lon, lat]))


def area_subscriptions_with_geometry(db):
    """Active service-area subscriptions with their area's WKB geometry and bounds."""
    return list(db.query(f"""
        SELECT s.*, a.geometry, a.min_lon, a.min_lat, a.max_lon, a.max_lat
        FROM subscriptions s JOIN service_areas a ON a.id = s.area_id
        WHERE s.kind = 'area' AND {ACTIVE}
    """))


def erase_email(db, email):
    """Delete every subscription of this address (privacy erase); return how many."""
    return db.execute("DELETE FROM subscriptions WHERE email = ? COLLATE NOCASE",
                      [email]).rowcount


def delete_unconfirmed_before(db, age):
    """Delete requests never confirmed whose last confirmation e-mail is older than ``age``
    (a signed amount of time such as '-7 days'); return how many."""
    return db.execute(
        "DELETE FROM subscriptions WHERE confirmed_at IS NULL "
        f"AND coalesce(confirmation_sent_at, created_at) < {dialect.now_moved_by(db)}",
        [age]).rowcount


def delete_unsubscribed(db):
    """Delete subscriptions their owner ended (nothing more will be sent); return how many."""
    return db.execute("DELETE FROM subscriptions WHERE unsubscribed_at IS NOT NULL").rowcount


def delete_for_reports_closed_before(db, closed_statuses, age):
    """Delete subscriptions to a report closed (one of ``closed_statuses``) and unchanged
    for longer than ``age``: no alert will come; return how many."""
    marks = ", ".join("?" * len(closed_statuses))
    return db.execute(
        "DELETE FROM subscriptions WHERE kind = 'report' AND report_id IN (SELECT id "
        f"FROM reports WHERE status IN ({marks}) AND updated_at < {dialect.now_moved_by(db)})",
        [*closed_statuses, age]).rowcount
