"""Console queue benchmark (issue 19): what due times, assignees and the new sorts cost.

Run: .venv/bin/python bench/console_bench.py [--reports 1000000] [--repeat 5]

Seeds N reports over the demo city (as bench/map_bench.py does), gives every category a
target (acknowledge 48 h, fix 14 days), and times, for the busiest service's dispatcher,
one page of 50 open reports and the counts the page shows. Baseline, same run, same
database: the queue's query as it was before issue 19 (no assignee, no target, newest first).
Prints the median of ``--repeat`` runs of each.
"""

import argparse
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from map_bench import seed  # noqa: E402

from app import create_app  # noqa: E402
from app.dispatch import targets  # noqa: E402
from app.statuses import OPEN_STATUSES  # noqa: E402
from app.storage import catalog, upgrade  # noqa: E402
from app.storage import queue as staff_rows  # noqa: E402
from app.web.db import get_db  # noqa: E402

BEFORE = """
    SELECT r.id, r.lon, r.lat, r.status, r.created_at, r.updated_at, r.description,
           r.hidden, r.supports, r.reporter_name, r.reporter_email, c.name AS category,
           s.name AS service, s.code AS service_code, a.name AS area
    FROM reports r
    JOIN categories c ON c.id = r.category_id
    JOIN services s ON s.id = r.service_id
    JOIN service_areas a ON a.id = r.area_id
    WHERE r.service_id IN (?) AND r.status IN ('new', 'acknowledged', 'in_progress')
    ORDER BY r.created_at DESC, r.id DESC LIMIT 50 OFFSET 0
"""


def timed(function, repeat):
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        function()
        times.append((time.perf_counter() - started) * 1000)
    return statistics.median(times)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--reports", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=5)
    options = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="console-bench-"))
    app = create_app({"SECRET_KEY": "bench", "DATABASE": str(folder / "civic.sqlite3"),
                      "PHOTO_STORE": str(folder / "photos")})
    with app.app_context():
        db = get_db()
        upgrade(db)
        started = time.perf_counter()
        seed(db, options.reports, np.random.default_rng(19))
        print(f"seeded {options.reports:,} reports in {time.perf_counter() - started:.0f} s")
        for category in catalog.all_categories(db):
            targets.set_target(db, category["code"], None, 48, 14 * 24)
        service_id, size = db.execute("SELECT service_id, count(*) FROM reports GROUP BY 1 "
                                      "ORDER BY 2 DESC LIMIT 1").fetchone()
        print(f"busiest service: {size:,} reports")
        base = staff_rows.QueueFilter(service_ids=(service_id,), statuses=OPEN_STATUSES)
        now = datetime.now(UTC).isoformat(timespec="seconds")
        cases = {
            "before: newest first (issue 18's query)":
                lambda: list(db.query(BEFORE, [service_id])),
            "after: newest first": lambda: staff_rows.queue(db, base, 0, 50),
            "after: by due time": lambda: staff_rows.queue(
                db, staff_rows.QueueFilter(**{**base.__dict__, "sort": "due"}), 0, 50),
            "after: by priority": lambda: staff_rows.queue(
                db, staff_rows.QueueFilter(**{**base.__dict__, "sort": "priority"}), 0, 50),
            "after: overdue only": lambda: staff_rows.queue(
                db, staff_rows.QueueFilter(**{**base.__dict__, "due_before": now}), 0, 50),
            "after: nearest first": lambda: staff_rows.queue(
                db, staff_rows.QueueFilter(**{**base.__dict__, "near": (-118.25, 34.05)}),
                0, 50),
            "count (tabs and total)": lambda: (staff_rows.queue_count(db, base),
                                               staff_rows.queue_status_counts(db, base)),
        }
        for name, function in cases.items():
            print(f"{name:42} {timed(function, options.repeat):9.1f} ms")


if __name__ == "__main__":
    main()
