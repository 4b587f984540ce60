"""Reads of the public statistics' summaries (kept on write by the triggers of m018), and
the local-day calendar they count in.

A scope is ``(service_id, category_id, area_id)`` with 0 for "any"; see
``migrations/m018_public_stats.py`` for the scopes a report counts in.
"""

from app.storage import dialect
from migrations.m018_public_stats import refill_statements

OPEN = ("new", "acknowledged", "in_progress")
#: The same statuses written out, as the partial index of supported reports names them.
OPEN_LITERAL = "('new', 'acknowledged', 'in_progress')"
SCOPE = "service_id = ? AND category_id = ? AND area_id = ?"


def calendar_zone(db):
    """The zone whose local days the summaries count in."""
    return db.execute("SELECT name FROM stats_zone").fetchone()[0]


def recount_in_zone(db, name, day_starts):
    """Count every summary again in the days of zone ``name``: ``day_starts`` gives each
    local day's first instant as (UTC ISO string, YYYY-MM-DD); none means UTC days."""
    with db.atomic():
        if calendar_zone(db) == name:  # another worker counted them while this one waited
            return
        db.execute("DELETE FROM stats_calendar")
        db.conn.executemany("INSERT INTO stats_calendar (starts_at, day) VALUES (?, ?)",
                            day_starts)
        db.execute("UPDATE stats_zone SET name = ?", [name])
        for statement in refill_statements():
            db.execute(statement)


def day_counts(db, scope, first_day, last_day):
    """(day, status, n) of the reports received in ``scope`` from ``first_day`` to
    ``last_day``."""
    return db.execute(
        f"SELECT day, status, n FROM stats_counts WHERE {SCOPE} AND day BETWEEN ? AND ? "
        "AND n != 0", [*scope, first_day, last_day]).fetchall()


def open_days(db, scope):
    """(day received, n) of the open reports of ``scope`` now, whatever their age."""
    marks = ", ".join("?" * len(OPEN))
    return db.execute(
        f"SELECT day, sum(n) FROM stats_counts WHERE {SCOPE} AND status IN ({marks}) "
        "GROUP BY day HAVING sum(n) != 0", [*scope, *OPEN]).fetchall()


def line_counts(db, scope, first_day, last_day):
    """(service_id, category_id, status, n) per service and category line inside ``scope``
    (a service's categories, a category's services, an area's categories...).

    Each line is read as its own range of the primary key (scope, then day), one per pair
    of the catalogue, instead of a scan of every line's every day.
    """
    service_id, category_id, area_id = scope
    services = "SELECT 0 AS id" if area_id else "SELECT id FROM services"
    if service_id:
        services += " WHERE id = :service"
    categories = "SELECT id FROM categories" + (" WHERE id = :category" if category_id else "")
    return db.execute(f"""
        SELECT k.service_id, k.category_id, k.status, sum(k.n)
        FROM ({services}) s CROSS JOIN ({categories}) c CROSS JOIN stats_counts k
        WHERE k.service_id = s.id AND k.category_id = c.id AND k.area_id = :area
              AND k.day BETWEEN :first_day AND :last_day
        GROUP BY 1, 2, 3 HAVING sum(k.n) != 0""",
        {"service": service_id, "category": category_id, "area": area_id,
         "first_day": first_day, "last_day": last_day}).fetchall()


def duration_counts(db, scope, periods):
    """(kind, hours, n) of ``scope`` over ``periods`` (whole months 'YYYY-MM' and days
    'YYYY-MM-DD', which must not overlap), durations rounded to two significant figures."""
    marks = ", ".join("?" * len(periods)) or "NULL"
    return db.execute(
        f"SELECT kind, hours, sum(n) FROM stats_times WHERE {SCOPE} AND period IN ({marks}) "
        "GROUP BY 1, 2 HAVING sum(n) != 0 ORDER BY 1, 2", [*scope, *periods]).fetchall()


def fixed_within(db, scope, periods, hours):
    """(fixed within ``hours``, fixed) of ``scope`` over ``periods``, summed in SQL."""
    marks = ", ".join("?" * len(periods)) or "NULL"
    within, fixed = db.execute(
        f"SELECT coalesce(sum(CASE WHEN hours <= ? THEN n END), 0), coalesce(sum(n), 0) "
        f"FROM stats_times WHERE {SCOPE} AND period IN ({marks}) AND kind = 'fix'",
        [hours, *scope, *periods]).fetchone()
    return within, fixed


def most_supported(db, scope, limit):
    """The public open reports of ``scope`` with the most "me too", most first."""
    service_id, category_id, area_id = scope
    where, params = [], []
    for column, value in (("service_id", service_id), ("category_id", category_id),
                          ("area_id", area_id)):
        if value:
            where.append(f"AND r.{column} = ?")
            params.append(value)
    return list(db.query(f"""
        SELECT r.id, r.supports, r.status, r.created_at, c.code AS category_code,
               c.name AS category, a.name AS area
        FROM reports r {dialect.index_hint(db, "reports_open_supported")}
        JOIN categories c ON c.id = r.category_id
        JOIN service_areas a ON a.id = r.area_id
        WHERE r.supports > 0 AND {dialect.flag_off(db, "r.hidden")}
              AND r.status IN {OPEN_LITERAL} {' '.join(where)}
        ORDER BY r.supports DESC, r.id LIMIT ?""", [*params, limit]))


def fix_targets(db):
    """{(service_id or None, category_id): hours} of the categories' fix targets."""
    if not db["report_targets"].exists():
        return {}
    return {(row[0], row[1]): row[2] for row in db.execute(
        "SELECT service_id, category_id, fix_hours FROM report_targets "
        "WHERE fix_hours IS NOT NULL")}


def area(db, area_id):
    """A service area with its service, bounds and WKB geometry, or None."""
    rows = list(db.query("""
        SELECT a.id, a.name, a.layer, a.service_id, a.retired_version_id, a.geometry,
               a.min_lon, a.min_lat, a.max_lon, a.max_lat, s.code AS service_code,
               s.name AS service
        FROM service_areas a JOIN services s ON s.id = a.service_id WHERE a.id = ?""",
        [area_id]))
    return rows[0] if rows else None


def open_report_points(db, area_id, limit):
    """The public open reports of an area: id, position, category, newest first."""
    marks = ", ".join("?" * len(OPEN))
    return list(db.query(f"""
        SELECT r.id, r.lon, r.lat, r.status, c.code AS category_code, c.name AS category
        FROM reports r JOIN categories c ON c.id = r.category_id
        WHERE r.area_id = ? AND r.hidden = 0 AND r.status IN ({marks})
        ORDER BY r.created_at DESC LIMIT ?""", [area_id, *OPEN, limit]))


def ids_by_code(db, table):
    """{code: (id, name)} of services or categories."""
    return {row[0]: (row[1], row[2])
            for row in db.execute(f"SELECT code, id, name FROM [{table}]")}


def density_cells(db, level, cell_range, query):
    """(cx, cy, n) of the public reports per cell of ``level`` in ``cell_range`` (min cx,
    max cx, min cy, max cy), from the map's pre-aggregated cell counts, with the shared
    filters of ``query`` (statuses, category and service codes)."""
    where = ["k.level = ?", "k.cx BETWEEN ? AND ?", "k.cy BETWEEN ? AND ?"]
    params = [level, *cell_range]
    for column, values in (("k.status", query.statuses), ("c.code", query.categories),
                           ("s.code", query.services)):
        if values:
            where.append(f"{column} IN ({', '.join('?' * len(values))})")
            params.extend(values)
    return db.execute(f"""
        SELECT k.cx, k.cy, sum(k.n) FROM report_cells k
        JOIN categories c ON c.id = k.category_id JOIN services s ON s.id = k.service_id
        WHERE {' AND '.join(where)} GROUP BY k.cx, k.cy HAVING sum(k.n) > 0""",
        params).fetchall()


def cell_levels(db):
    """(level, cell size in degrees) of the map's cell counts, coarsest first."""
    return db.execute("SELECT level, size FROM report_cell_levels ORDER BY size DESC").fetchall()
