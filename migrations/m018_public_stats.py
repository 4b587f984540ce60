"""Public statistics: pre-aggregated counts and response-time histograms, kept on write.

Scanning a million reports (and their events) for every ``/stats`` answer takes seconds, so
triggers keep two summaries, like the map's cell counts:

- ``stats_counts``: reports per scope, local day of receipt and status;
- ``stats_times``: per scope, day (and month) of receipt, kind (``ack``, ``fix``) and
  duration in hours rounded to two significant figures, how many reports took that long.

A scope is (service_id, category_id, area_id) with 0 for "any": the city (0, 0, 0), a
service, a category, a service and category, an area, an area and category. Hidden reports
count in no scope. The report's first acknowledgement and its latest fix (cleared when it
is reopened) are kept on the report by a trigger on its status events, so the figures never
read the events. Local days come from ``stats_calendar`` (the UTC instant each local day
starts, filled for the ``TIME_ZONE`` setting; empty means UTC days).
"""

#: (service, category, area) flags of each scope a report counts in.
SCOPES = "(VALUES (0, 0, 0), (1, 0, 0), (0, 1, 0), (1, 1, 0), (0, 0, 1), (0, 1, 1))"

OPEN = "('new', 'acknowledged', 'in_progress')"


def day_of(moment):
    """SQL: the local day (YYYY-MM-DD) of a stored UTC time, from the calendar."""
    return (f"coalesce((SELECT day FROM stats_calendar WHERE starts_at <= {moment} "
            f"ORDER BY starts_at DESC LIMIT 1), substr({moment}, 1, 10))")


def hours_bucket(since, until):
    """SQL: hours from ``since`` to ``until`` rounded to two significant figures."""
    hours = f"max(0.0, (julianday({until}) - julianday({since})) * 24.0)"
    return f"""(SELECT CASE WHEN h < 1 THEN round(h, 2) WHEN h < 10 THEN round(h, 1)
        WHEN h < 100 THEN round(h) WHEN h < 1000 THEN round(h / 10) * 10
        WHEN h < 10000 THEN round(h / 100) * 100 ELSE round(h / 1000) * 1000 END
        FROM (SELECT {hours} AS h))"""


def _scope_columns(row):
    return (f"column1 * {row}.service_id, column2 * {row}.category_id, "
            f"column3 * {row}.area_id")


def count_change(row, sign):
    """SQL adding (+1) or removing (-1) the report ``row`` (NEW or OLD) in every scope."""
    return f"""
        INSERT INTO stats_counts (service_id, category_id, area_id, day, status, n)
        SELECT {_scope_columns(row)}, {day_of(f"{row}.created_at")}, {row}.status, {sign}
        FROM {SCOPES} WHERE NOT {row}.hidden
        ON CONFLICT (service_id, category_id, area_id, day, status)
        DO UPDATE SET n = n + excluded.n;
    """


def time_change(row, sign, kind, column, grain_length):
    """SQL adding or removing the report's duration ``kind`` at one grain (10: day, 7: month)."""
    return f"""
        INSERT INTO stats_times (service_id, category_id, area_id, period, kind, hours, n)
        SELECT {_scope_columns(row)}, substr({day_of(f"{row}.created_at")}, 1, {grain_length}),
               '{kind}', {hours_bucket(f"{row}.created_at", f"{row}.{column}")}, {sign}
        FROM {SCOPES} WHERE NOT {row}.hidden AND {row}.{column} IS NOT NULL
        ON CONFLICT (service_id, category_id, area_id, period, kind, hours)
        DO UPDATE SET n = n + excluded.n;
    """


def report_change(row, sign):
    """Every summary change for one report row."""
    return count_change(row, sign) + "".join(
        time_change(row, sign, kind, column, grain)
        for kind, column in (("ack", "acknowledged_at"), ("fix", "fixed_at"))
        for grain in (10, 7))


COLUMNS = [
    "ALTER TABLE reports ADD COLUMN acknowledged_at TEXT",
    "ALTER TABLE reports ADD COLUMN fixed_at TEXT",
]

STATEMENTS = [
    "CREATE TABLE stats_calendar (starts_at TEXT PRIMARY KEY, day TEXT NOT NULL) WITHOUT ROWID",
    "CREATE TABLE stats_zone (name TEXT NOT NULL)",
    "INSERT INTO stats_zone VALUES ('UTC')",
    """CREATE TABLE stats_counts (
        service_id INTEGER NOT NULL, category_id INTEGER NOT NULL, area_id INTEGER NOT NULL,
        day TEXT NOT NULL, status TEXT NOT NULL, n INTEGER NOT NULL,
        PRIMARY KEY (service_id, category_id, area_id, day, status)
    ) WITHOUT ROWID""",
    """CREATE TABLE stats_times (
        service_id INTEGER NOT NULL, category_id INTEGER NOT NULL, area_id INTEGER NOT NULL,
        period TEXT NOT NULL, kind TEXT NOT NULL, hours REAL NOT NULL, n INTEGER NOT NULL,
        PRIMARY KEY (service_id, category_id, area_id, period, kind, hours)
    ) WITHOUT ROWID""",
    f"""CREATE TRIGGER reports_stats_insert AFTER INSERT ON reports BEGIN
        {report_change("NEW", 1)}
    END""",
    f"""CREATE TRIGGER reports_stats_delete AFTER DELETE ON reports BEGIN
        {report_change("OLD", -1)}
    END""",
    f"""CREATE TRIGGER reports_stats_update AFTER UPDATE OF status, service_id, category_id,
        area_id, hidden, created_at, acknowledged_at, fixed_at ON reports BEGIN
        {report_change("OLD", -1)}
        {report_change("NEW", 1)}
    END""",
    f"""CREATE TRIGGER report_events_stats AFTER INSERT ON report_events
        WHEN NEW.kind = 'status' AND NEW.to_status IS NOT NEW.from_status BEGIN
        UPDATE reports SET
            acknowledged_at = coalesce(acknowledged_at,
                CASE WHEN NEW.to_status != 'new' THEN NEW.at END),
            fixed_at = CASE WHEN NEW.to_status = 'fixed' THEN NEW.at
                WHEN NEW.to_status IN {OPEN} THEN NULL ELSE fixed_at END
        WHERE id = NEW.report_id;
    END""",
    "CREATE INDEX reports_area_created ON reports(area_id, created_at)",
    # The most supported open reports, read in order of supports.
    f"""CREATE INDEX reports_open_supported ON reports(supports DESC, id)
        WHERE supports > 0 AND NOT hidden AND status IN {OPEN}""",
]

BACKFILL = """
    UPDATE reports SET
        acknowledged_at = (SELECT min(e.at) FROM report_events e WHERE e.report_id = reports.id
            AND e.kind = 'status' AND e.to_status != 'new'
            AND e.to_status IS NOT e.from_status),
        fixed_at = CASE WHEN status IN ('fixed', 'closed') THEN
            (SELECT max(e.at) FROM report_events e WHERE e.report_id = reports.id
             AND e.kind = 'status' AND e.to_status = 'fixed'
             AND e.to_status IS NOT e.from_status) END
    WHERE id IN (SELECT report_id FROM report_events WHERE kind = 'status')
"""


def refill_statements():
    """SQL emptying both summaries and counting every report again (after a zone change)."""
    rows = "(SELECT *, " + day_of("created_at") + " AS day FROM reports WHERE NOT hidden)"
    scoped = (f"SELECT column1 * r.service_id AS s, column2 * r.category_id AS c, "
              f"column3 * r.area_id AS a, r.* FROM {rows} r, {SCOPES}")
    times = [f"""INSERT INTO stats_times (service_id, category_id, area_id, period, kind,
                     hours, n)
                 SELECT s, c, a, substr(day, 1, {grain}), '{kind}',
                        {hours_bucket("created_at", column)} AS h, count(*)
                 FROM ({scoped}) WHERE {column} IS NOT NULL GROUP BY 1, 2, 3, 4, 6"""
             for kind, column in (("ack", "acknowledged_at"), ("fix", "fixed_at"))
             for grain in (10, 7)]
    return ["DELETE FROM stats_counts", "DELETE FROM stats_times",
            f"""INSERT INTO stats_counts (service_id, category_id, area_id, day, status, n)
                SELECT s, c, a, day, status, count(*) FROM ({scoped}) GROUP BY 1, 2, 3, 4, 5""",
            *times]


def upgrade(db):
    for statement in COLUMNS:
        db.execute(statement)
    db.execute(BACKFILL)
    for statement in STATEMENTS + refill_statements():
        db.execute(statement)
