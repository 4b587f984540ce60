"""What m023's triggers (map_features kept on every write) cost a write, on a kept database.

Run: .venv/bin/python bench/map_write_bench.py FOLDER [--rounds N]

FOLDER is one kept by ``bench/map_bench.py --keep FOLDER`` (1,000,000 reports). Its file is
copied twice into a temporary folder, m023's triggers are dropped from one copy ("before"),
and the same writes go to both copies, alternating round by round: reports one per
transaction, reports 5,000 per transaction (an import), and photos one per transaction.
Prints the p50 per write (ms) for each copy and the load average. FOLDER is not changed.
"""

import argparse
import random
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from app.storage import open_database  # noqa: E402
from app.storage import reports as report_rows  # noqa: E402

ROUTED = ("category_id", "service_id", "area_id", "boundary_version_id")


def copies(folder, scratch):
    """(before, after): the kept database twice, m023's triggers dropped from the first."""
    opened = []
    for name in ("before", "after"):
        path = Path(scratch) / f"{name}.sqlite3"
        shutil.copyfile(Path(folder) / "bench.sqlite3", path)
        opened.append(open_database(path))
    before = opened[0]
    for (trigger,) in before.execute("SELECT name FROM sqlite_master WHERE type = 'trigger' "
                                     "AND name LIKE '%features%'").fetchall():
        before.execute(f"DROP TRIGGER {trigger}")
    before.conn.commit()
    return opened


def writes(db, rng, template, samples):
    """One round: 200 reports one by one, 5,000 in one transaction, 100 photos one by one."""
    def report(number):
        return {**template, "lon": rng.uniform(-118.6, -118.2), "lat": rng.uniform(33.8, 34.3),
                "description": f"Write cost {number}: " + "a pothole by the corner " * 6,
                "status": "new", "source": "bench", "created_at": "2026-12-01T00:00:00+00:00",
                "updated_at": "2026-12-01T00:00:00+00:00"}
    for number in range(200):
        start = time.perf_counter()
        report_rows.insert_reports_bulk(db, [report(number)])
        samples["report"].append((time.perf_counter() - start) * 1000)
    batch = [report(number) for number in range(5000)]
    start = time.perf_counter()
    report_rows.insert_reports_bulk(db, batch)
    samples["import"].append((time.perf_counter() - start) * 1000 / len(batch))
    last = db.execute("SELECT max(id) FROM reports").fetchone()[0]
    for number in range(100):
        start = time.perf_counter()
        with db.atomic():
            db.execute("INSERT INTO photos (report_id, position, display_name, thumb_name, "
                       "width, height, created_at) VALUES (?, 0, ?, ?, 1, 1, '2026')",
                       [last - number, f"d{last}-{number}.jpg", f"t{last}-{number}.jpg"])
        samples["photo"].append((time.perf_counter() - start) * 1000)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("folder")
    parser.add_argument("--rounds", type=int, default=6)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as scratch:
        before, after = copies(args.folder, scratch)
        template = dict(zip(ROUTED, before.execute(
            f"SELECT {', '.join(ROUTED)} FROM reports LIMIT 1").fetchone(), strict=True))
        samples = {name: {"report": [], "import": [], "photo": []} for name in ("before", "after")}
        rng = random.Random(23)
        for number in range(args.rounds):
            order = (("before", before), ("after", after))
            for name, db in order if number % 2 == 0 else reversed(order):
                writes(db, rng, template, samples[name])
        for name, found in samples.items():
            print(f"{name:6} m023: report (one per transaction) p50 "
                  f"{statistics.median(found['report']):.3f} ms; import p50 "
                  f"{statistics.median(found['import']):.3f} ms per report; photo p50 "
                  f"{statistics.median(found['photo']):.3f} ms")
        print(f"load average {Path('/proc/loadavg').read_text().split()[0]}")
        for db in (before, after):
            db.close()


if __name__ == "__main__":
    main()
