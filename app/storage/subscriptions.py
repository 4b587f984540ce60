"""E-mail alert subscriptions: to one report, to a radius around a point, to a service area."""

from app.storage import now

ACTIVE = "s.confirmed_at IS NOT NULL AND s.unsubscribed_at IS NULL"


def find_same(db, email, target):
    """A still-active subscription of this address to the same target (to re-confirm)."""
    clauses = " AND ".join(f"{column} IS ?" for column in target)
    rows = list(db.query(
        f"SELECT * FROM subscriptions WHERE email = ? COLLATE NOCASE AND {clauses} "
        "AND unsubscribed_at IS NULL ORDER BY id DESC LIMIT 1",
        [email, *target.values()]))
    return rows[0] if rows else None


def insert(db, row):
    return db["subscriptions"].insert({**row, "created_at": now()}).last_pk


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
