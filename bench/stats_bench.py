"""Public statistics benchmark: 1,000,000 reports, summaries kept on write vs a GROUP BY.

Run: .venv/bin/python bench/stats_bench.py [--reports N] [--runs N] [--bulk]

Seeds reports like bench/map_bench.py (random points over the demo city, routed by the real
router, inserted in batches with every trigger on) but received over the last 1,500 days,
with statuses, first acknowledgements and fixes, 1% hidden, in the city's time zone
(America/Los_Angeles). Then answers ``/stats`` and ``/api/stats.json`` through the Flask
test client for the whole city and for each service, over 12 months and 90 days, and the
same questions answered in the same run by a straightforward GROUP BY over the reports
(the counts by service, category and status, the backlog, the durations for the medians),
and checks that both give the same counts.
"""

import argparse
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from app import create_app, localtime  # noqa: E402
from app.demo import load_demo  # noqa: E402
from app.reporting import public_stats  # noqa: E402
from app.reporting.areas import build_router  # noqa: E402
from app.storage import areas as area_rows  # noqa: E402
from app.storage import catalog, upgrade  # noqa: E402
from app.storage import reports as report_rows  # noqa: E402
from app.web.db import get_db  # noqa: E402
from migrations.m018_public_stats import refill_statements  # noqa: E402

ZONE = "America/Los_Angeles"
STATUSES = np.array(["new", "acknowledged", "in_progress", "fixed", "closed"], dtype=object)
BATCH = 100_000
DAYS = 1500


def make_app(folder):
    return create_app({"SECRET_KEY": "bench", "DATABASE": str(folder / "bench.sqlite3"),
                       "PHOTO_STORE": str(folder / "photos"), "SERVER_NAME": "bench.local",
                       "TIME_ZONE": ZONE})


def seed(db, count, rng, now, bulk=False):
    """``count`` reports at random points inside the city, routed like real ones; with
    ``bulk`` the triggers on reports are off while loading and the statistics summaries are
    counted once at the end (the same rows, as tests/test_stats_public.py checks; the map's
    cells are then left out of date, which these figures do not read)."""
    triggers = _drop_report_triggers(db) if bulk else []
    load_demo(db)
    db.execute("PRAGMA cache_size = -500000")  # 500 MB: the summaries' pages stay in memory
    public_stats.ensure_calendar(db, localtime.zone_named(ZONE))
    router = build_router(db)
    categories = {c["code"]: c["id"] for c in catalog.all_categories(db)}
    if db["report_targets"].exists():  # every category with a fix target: the most reading
        db["report_targets"].insert_all({"category_id": c, "fix_hours": 72,
                                         "updated_at": now.isoformat()}
                                        for c in categories.values())
    services = {s["code"]: s["id"] for s in catalog.all_services(db)}
    codes = np.array(sorted(categories), dtype=object)
    min_lon, min_lat, max_lon, max_lat = area_rows.coverage_bounds(db)
    stored = 0
    while stored < count:
        lons = rng.uniform(min_lon, max_lon, BATCH)
        lats = rng.uniform(min_lat, max_lat, BATCH)
        chosen = codes[rng.integers(0, codes.size, BATCH)]
        areas = router.route_many(lons, lats, chosen)
        keep = np.flatnonzero(areas >= 0)[: count - stored]
        rows = [_row(stored + n, i, lons, lats, chosen, areas, router, categories, services,
                     now, rng) for n, i in enumerate(keep.tolist())]
        report_rows.insert_reports_bulk(db, rows)
        stored += len(rows)
    if bulk:
        start = time.perf_counter()
        with db.atomic():
            for statement in refill_statements() + triggers:
                db.execute(statement)
        print(f"summaries counted in one pass in {time.perf_counter() - start:.0f} s")
    return stored


def _drop_report_triggers(db):
    """Drop the triggers on reports; return the SQL that creates them again."""
    triggers = db.execute("SELECT name, sql FROM sqlite_master WHERE type = 'trigger' "
                          "AND tbl_name = 'reports'").fetchall()
    for name, _ in triggers:
        db.execute(f"DROP TRIGGER [{name}]")
    return [sql for _, sql in triggers]


def _row(number, i, lons, lats, chosen, areas, router, categories, services, now, rng):
    created = now - timedelta(seconds=int(rng.integers(0, DAYS * 86400)))
    status = STATUSES[number % 5]
    acknowledged = fixed = None
    if status != "new":
        acknowledged = created + timedelta(hours=float(rng.lognormal(2.5, 1.2)))
    if status in ("fixed", "closed") and number % 10 != 4:
        fixed = acknowledged + timedelta(hours=float(rng.lognormal(4, 1.3)))
    return {
        "category_id": categories[chosen[i]],
        "service_id": services[router.areas[int(areas[i])].service],
        "area_id": int(areas[i]), "boundary_version_id": router.version,
        "lon": float(lons[i]), "lat": float(lats[i]),
        "description": f"Seeded report {number}", "status": status, "source": "bench",
        "hidden": int(number % 100 == 7), "supports": int(number % 1000 == 3) * 4,
        "created_at": created.isoformat(timespec="seconds"),
        "updated_at": created.isoformat(timespec="seconds"),
        "acknowledged_at": acknowledged and min(acknowledged, now).isoformat(timespec="seconds"),
        "fixed_at": fixed and min(fixed, now).isoformat(timespec="seconds"),
    }


def group_by_figures(db, first_utc, service_id=None):
    """The same figures from the reports themselves: what a page would do without summaries."""
    where = "WHERE NOT hidden AND created_at >= ?"
    params = [first_utc]
    if service_id:
        where += " AND service_id = ?"
        params.append(service_id)
    lines = db.execute(f"SELECT service_id, category_id, status, count(*) FROM reports {where} "
                       "GROUP BY 1, 2, 3", params).fetchall()
    backlog = db.execute(
        "SELECT substr(created_at, 1, 10), count(*) FROM reports WHERE NOT hidden AND status "
        f"IN ('new', 'acknowledged', 'in_progress') {'AND service_id = ?' if service_id else ''}"
        " GROUP BY 1", [service_id] if service_id else []).fetchall()
    medians = {}
    for column in ("acknowledged_at", "fixed_at"):
        hours = [row[0] for row in db.execute(
            f"SELECT (julianday({column}) - julianday(created_at)) * 24 FROM reports {where} "
            f"AND {column} IS NOT NULL", params)]
        medians[column] = statistics.median(hours) if hours else None
    return lines, backlog, medians


def profile(db):
    import cProfile
    import pstats
    stats_filter = public_stats.StatsFilter("12m")
    today = localtime.today(localtime.zone_named(ZONE))
    cProfile.runctx("public_stats.figures(db, stats_filter, today)", globals(), locals(),
                    "/tmp/stats.prof")
    pstats.Stats("/tmp/stats.prof").sort_stats("cumulative").print_stats(15)


def timed(function, runs):
    samples = []
    for _ in range(runs):
        start = time.perf_counter()
        function()
        samples.append((time.perf_counter() - start) * 1000)
    return statistics.median(samples), max(samples)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--reports", type=int, default=1_000_000)
    parser.add_argument("--runs", type=int, default=30)
    parser.add_argument("--profile", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--bulk", action="store_true",
                        help="load with the triggers off, then count the summaries once")
    args = parser.parse_args()
    rng = np.random.default_rng(21)
    now = datetime.now(UTC).replace(microsecond=0)
    with tempfile.TemporaryDirectory() as name:
        app = make_app(Path(name))
        with app.app_context():
            db = get_db()
            upgrade(db)
            start = time.perf_counter()
            total = seed(db, args.reports, rng, now, args.bulk)
            print(f"seeded {total:,} reports in {time.perf_counter() - start:.0f} s " + (
                "(triggers off, summaries counted at the end)" if args.bulk else
                "(map cells, statistics summaries and map data version kept by triggers)"))
            rows = db.execute("SELECT (SELECT count(*) FROM stats_counts), "
                              "(SELECT count(*) FROM stats_times)").fetchone()
            print(f"summary rows: {rows[0]:,} counts, {rows[1]:,} durations")
            if args.profile:
                profile(db)
            services = {s["code"]: s["id"] for s in catalog.all_services(db)}
        client = app.test_client()
        for period, days in (("12m", 365), ("90d", 90)):
            first_day = localtime.today(localtime.zone_named(ZONE)) - timedelta(days=days - 1)
            first_utc = localtime.day_start(first_day, localtime.zone_named(ZONE))
            for code in [None, *services]:
                compare(app, client, period, code, services.get(code), first_utc, args.runs)


def compare(app, client, period, code, service_id, first_utc, runs):
    query = f"?period={period}" + (f"&service={code}" if code else "")
    label = f"{period} {code or 'whole city':16}"

    def page():
        assert client.get("/stats" + query).status_code == 200

    def data():
        response = client.get("/api/stats.json" + query)
        assert response.status_code == 200
        return response.get_json()

    with app.app_context():
        db = get_db()
        plain = timed(lambda: group_by_figures(db, first_utc, service_id), max(3, runs // 5))
        lines, _, _ = group_by_figures(db, first_utc, service_id)
    answer = data()
    assert answer["received"] == sum(n for *_, n in lines), (answer["received"], lines)
    page50, page_max = timed(page, runs)
    data50, _ = timed(data, runs)
    print(f"{label} /stats p50 {page50:6.1f} ms (max {page_max:.1f}), /api/stats.json p50 "
          f"{data50:6.1f} ms; GROUP BY over the reports p50 {plain[0]:7.1f} ms "
          f"({plain[0] / data50:.0f}x); received {answer['received']:,} (same in both)")


if __name__ == "__main__":
    main()
