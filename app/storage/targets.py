"""Targets (hours to acknowledge and to fix, per category and optionally per service) and the
due times that follow from them, as SQL the queue, the digests and Open311 share.

A report's due time is its creation plus the target's hours, in UTC: elapsed hours, so a
24-hour target across a daylight-saving change is still 24 real hours. A service's own target
for the category wins over the category's target for everyone.
"""

from app.storage import dialect, now


def _target(column):
    """The ``column`` of a report's target, as a scalar subquery on ``r`` (reports): the
    service's own row for its category, else the category's row for every service. Only
    the rows a page shows (or sorts and filters by) pay for it."""
    return (f"(SELECT x.{column} FROM report_targets x WHERE x.category_id = r.category_id "
            "AND (x.service_id = r.service_id OR x.service_id IS NULL) "
            "ORDER BY x.service_id IS NULL LIMIT 1)")


def _plus_hours(hours):
    return (f"strftime('%Y-%m-%dT%H:%M:%S+00:00', r.created_at, "
            f"'+' || CAST(round({hours} * 3600) AS INTEGER) || ' seconds')")


ACKNOWLEDGE_HOURS = _target("acknowledge_hours")
FIX_HOURS = _target("fix_hours")
ACKNOWLEDGE_DUE = _plus_hours(ACKNOWLEDGE_HOURS)
FIX_DUE = _plus_hours(FIX_HOURS)
#: What is due next for an open report: acknowledging it while it is new (when the target
#: has an acknowledge time), else fixing it; nothing for a closed one.
DUE_AT = f"""CASE
    WHEN r.status = 'new' AND {ACKNOWLEDGE_HOURS} IS NOT NULL THEN {ACKNOWLEDGE_DUE}
    WHEN r.status IN ('new', 'acknowledged', 'in_progress') THEN {FIX_DUE}
END"""
DUE_KIND = f"""CASE
    WHEN r.status = 'new' AND {ACKNOWLEDGE_HOURS} IS NOT NULL THEN 'acknowledge'
    WHEN r.status IN ('new', 'acknowledged', 'in_progress') AND {FIX_HOURS} IS NOT NULL
        THEN 'fix'
END"""


def set_target(db, category_id, service_id, acknowledge_hours, fix_hours):
    """Create or replace the target of a category (for one service, or all when None)."""
    row = {"category_id": category_id, "service_id": service_id,
           "acknowledge_hours": acknowledge_hours, "fix_hours": fix_hours,
           "updated_at": now()}
    with db.atomic():
        db.execute("DELETE FROM report_targets WHERE category_id = ? "
                   "AND coalesce(service_id, 0) = coalesce(?, 0)", [category_id, service_id])
        db["report_targets"].insert(row)


def remove_target(db, category_id, service_id):
    return db.execute("DELETE FROM report_targets WHERE category_id = ? "
                      "AND coalesce(service_id, 0) = coalesce(?, 0)",
                      [category_id, service_id]).rowcount == 1


def all_targets(db):
    return list(db.query("""
        SELECT c.code AS category_code, c.name AS category, s.code AS service_code,
               s.name AS service, t.acknowledge_hours, t.fix_hours
        FROM report_targets t
        JOIN categories c ON c.id = t.category_id
        LEFT JOIN services s ON s.id = t.service_id
        ORDER BY c.code, s.code IS NOT NULL, s.code
    """))


def due_times(db, report_id):
    """The acknowledge and fix due times of a report (None where no target says)."""
    rows = list(db.query(f"""
        SELECT r.id, {ACKNOWLEDGE_DUE} AS acknowledge_due_at, {FIX_DUE} AS fix_due_at,
               {DUE_AT} AS due_at, {DUE_KIND} AS due_kind
        FROM reports r WHERE r.id = ?
    """, [report_id]))
    return rows[0] if rows else None


def fix_due_of(db, report_ids):
    """{report id: fix due time} of the reports that have a fix target (for Open311)."""
    ids = list(report_ids)
    if not ids:
        return {}
    return dict(db.execute(f"""
        SELECT r.id, {FIX_DUE} FROM reports r
        WHERE r.id IN ({','.join('?' * len(ids))}) AND {FIX_HOURS} IS NOT NULL
    """, ids))


def fix_due_column(db):
    """A report's fix due time as a column of any query on ``reports r``, for the public
    reads that Open311 answers from, in the engine's words."""
    return f"{dialect.hours_after(db, 'r.created_at', FIX_HOURS)} AS fix_due_at"
