"""The daily overdue digests: what is overdue per service, and which days were sent."""

from app.storage.targets import DUE_KIND, due_at


def overdue_reports(db, at):
    """Every open report whose next due time is before ``at`` (UTC ISO), with its service,
    category and assignee, most overdue first."""
    return list(db.query(f"""
        SELECT * FROM (
            SELECT r.id, r.service_id, s.code AS service_code, s.name AS service,
                   c.code AS category_code, c.name AS category, r.address, r.lon, r.lat,
                   r.priority, u.email AS assignee, {due_at(db)} AS due_at,
                   {DUE_KIND} AS due_kind
            FROM reports r
            JOIN services s ON s.id = r.service_id
            JOIN categories c ON c.id = r.category_id
            LEFT JOIN users u ON u.id = r.assignee_id
                WHERE r.status IN ('new', 'acknowledged', 'in_progress')
        ) AS due WHERE due_at < ? ORDER BY service_id, due_at, id
    """, [at]))


def services_with_recipients(db):
    """Each service with its delivery e-mail and the e-mails of its active staff."""
    return list(db.query("""
        SELECT s.id, s.code, s.name, s.email,
               (SELECT group_concat(u.email, ' ') FROM user_services us
                JOIN users u ON u.id = us.user_id AND u.active = 1
                WHERE us.service_id = s.id) AS staff
        FROM services s ORDER BY s.code
    """))


def last_digest_at(db, service_id):
    """When the service's latest digest was sent (None before the first)."""
    row = db.execute("SELECT max(sent_at) FROM overdue_digests WHERE service_id = ?",
                     [service_id]).fetchone()
    return row[0]


def claim_day(db, service_id, day, at, overdue):
    """Record the service's digest of ``day`` (the city's date); False when that day's digest
    was already recorded, so running the command twice sends once."""
    cursor = db.execute("INSERT INTO overdue_digests (service_id, day, sent_at, overdue) "
                        "VALUES (?, ?, ?, ?) ON CONFLICT DO NOTHING",
                        [service_id, day, at, overdue])
    return cursor.rowcount == 1
