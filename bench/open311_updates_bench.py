"""Open311 servicerequestupdates at ~360,000 events: with the event-time index (m009) and
without it (the same database after DROP INDEX), through the whole HTTP request.

Run: .venv/bin/python bench/open311_updates_bench.py [--reports N] [--runs N]

Each report gets three events (created, acknowledged a day later, fixed four days after
that), spread over the last year. Prints the p50/p99 of the default window (the last 90
days, a full page of 1,000 updates) and of a one-day window, and the query plan each time.
"""

import argparse
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from app import create_app  # noqa: E402
from app.demo import load_demo  # noqa: E402
from app.storage import upgrade  # noqa: E402
from app.storage.open311 import STATUS_UPDATES_SQL  # noqa: E402
from app.web.db import get_db  # noqa: E402

URL = "/open311/v2/servicerequestupdates.json"
SEED_REPORTS = """
    WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < :count)
    INSERT INTO reports (category_id, service_id, area_id, boundary_version_id, lon, lat,
                         description, status, created_at, updated_at, token)
    SELECT t.category_id, t.service_id, t.area_id, t.boundary_version_id, t.lon, t.lat,
           'Benchmark report', 'fixed',
           strftime('%Y-%m-%dT%H:%M:%S+00:00', :now, printf('-%d seconds', i * :step)),
           strftime('%Y-%m-%dT%H:%M:%S+00:00', :now, printf('-%d seconds', i * :step)),
           lower(hex(randomblob(16)))
    FROM n, (SELECT * FROM reports ORDER BY id LIMIT 1) t
"""
SEED_EVENTS = """
    INSERT INTO report_events (report_id, kind, actor, at, from_status, to_status, public_note)
    SELECT id, 'created', 'web', created_at, NULL, 'new', NULL FROM reports WHERE id > :first
    UNION ALL
    SELECT id, 'status', 'staff', strftime('%Y-%m-%dT%H:%M:%S+00:00', created_at, '+1 day'),
           'new', 'acknowledged', 'Seen.' FROM reports WHERE id > :first
    UNION ALL
    SELECT id, 'status', 'staff', strftime('%Y-%m-%dT%H:%M:%S+00:00', created_at, '+5 days'),
           'acknowledged', 'fixed', 'Done.' FROM reports WHERE id > :first
"""


def seed(db, reports):
    now = datetime.now(UTC)
    first = db.execute("SELECT max(id) FROM reports").fetchone()[0]
    with db.atomic():
        db.execute(SEED_REPORTS, {"count": reports, "now": now.isoformat(timespec="seconds"),
                                  "step": int(timedelta(days=365).total_seconds()) // reports})
        db.execute(SEED_EVENTS, {"first": first})
    return db.execute("SELECT count(*) FROM report_events").fetchone()[0]


def timings(client, query, runs):
    seconds = []
    for _ in range(runs):
        start = time.perf_counter()
        response = client.get(f"{URL}?{query}")
        seconds.append(time.perf_counter() - start)
        assert response.status_code == 200, response.data
    return len(response.get_json()), statistics.median(seconds), max(seconds)


def measure(app, label, runs):
    day = (datetime.now(UTC) - timedelta(days=40)).date()
    windows = {"last 90 days": "",
               "one day": f"start_date={day}T00:00:00Z&end_date={day}T23:59:59Z"}
    with app.app_context():
        plan = [row[3] for row in get_db().execute(f"EXPLAIN QUERY PLAN {STATUS_UPDATES_SQL}",
                                                   ["a", "b", 1])]
    print(f"{label}: plan {plan}")
    client = app.test_client()
    for name, query in windows.items():
        count, p50, worst = timings(client, query, runs)
        print(f"  {name:13} {count:5} updates  p50 {p50 * 1000:7.1f} ms  "
              f"max {worst * 1000:7.1f} ms")


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--reports", type=int, default=120_000)
    parser.add_argument("--runs", type=int, default=20)
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="open311-bench-"))
    app = create_app({"SECRET_KEY": "bench" * 8, "DATABASE": str(folder / "bench.sqlite3"),
                      "PHOTO_STORE": str(folder / "photos"), "RATE_LIMITS_ON": False,
                      "RATE_LIMIT_DATABASE": str(folder / "rate-limits.sqlite3")})
    with app.app_context():
        db = get_db()
        upgrade(db)
        load_demo(db)
        print(f"{seed(db, args.reports):,} events")
    measure(app, "with report_events_at", args.runs)
    with app.app_context():
        get_db().execute("DROP INDEX report_events_at")
    measure(app, "without it", args.runs)


if __name__ == "__main__":
    main()
