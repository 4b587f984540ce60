"""What storing reports costs on PostgreSQL: a bulk seed, then single submissions' inserts.

Run: .venv/bin/python bench/pg_insert_bench.py [--reports 20000] [--singles 50]

On a throwaway cluster (unix socket only, durable settings), migrates a database, seeds
``--reports`` reports as bench/map_bench.py does (the storage's bulk insert, one transaction;
only the inserts are timed, not the routing), then inserts ``--singles`` reports one at a time,
each in its own transaction as a submission stores it, and prints the p50 with the time each
trigger took in the last one (EXPLAIN ANALYZE). The triggers keep the map's cells, the cell
totals, the public statistics and the map data version, so this is where a trigger's cost
shows.
"""

import argparse
import contextlib
import statistics
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

import map_bench  # noqa: E402
from pg_cluster import start_cluster  # noqa: E402

from app.storage import open_database, upgrade  # noqa: E402
from app.storage import reports as report_rows  # noqa: E402

COLUMNS = ("category_id", "service_id", "area_id", "boundary_version_id", "lon", "lat")


def timed_seed(db, count):
    """Seed ``count`` reports; the seconds spent in the bulk inserts alone, and the rows."""
    spent = []
    bulk = report_rows.insert_reports_bulk

    def timed(db, rows):
        start = time.perf_counter()
        bulk(db, rows)
        spent.append((len(rows), time.perf_counter() - start))

    report_rows.insert_reports_bulk = timed
    try:
        map_bench.seed(db, count, np.random.default_rng(11))
    finally:
        report_rows.insert_reports_bulk = bulk
    return sum(s for _, s in spent), sum(n for n, _ in spent)


def single_inserts(db, count):
    """Milliseconds for each of ``count`` reports inserted in a transaction of its own."""
    row = dict(zip(COLUMNS, db.execute(
        f"SELECT {', '.join(COLUMNS)} FROM reports ORDER BY id LIMIT 1").fetchone(), strict=True))
    samples = []
    for n in range(count):
        start = time.perf_counter()
        with db.atomic():
            report_rows.insert_report(db, {**row, "description": f"Single insert {n}"})
        samples.append((time.perf_counter() - start) * 1000)
    return samples


@contextlib.contextmanager
def rolled_back(db):
    """A transaction that is rolled back: the measured insert leaves nothing behind."""
    db.conn.raw.execute("BEGIN")
    try:
        yield
    finally:
        db.conn.raw.execute("ROLLBACK")


def trigger_times(db):
    """EXPLAIN ANALYZE of one more insert (rolled back): each trigger's time and the total."""
    values = db.execute(f"SELECT {', '.join(COLUMNS)} FROM reports ORDER BY id LIMIT 1").fetchone()
    with rolled_back(db):
        plan = db.execute(
            f"EXPLAIN ANALYZE INSERT INTO reports ({', '.join(COLUMNS)}, description, status, "
            "created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, 'x', 'new', "
            "'2024-01-01T00:00:00+00:00', '2024-01-01T00:00:00+00:00')", list(values)).fetchall()
    return [line for (line,) in plan if line.startswith(("Trigger reports", "Execution"))]


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--reports", type=int, default=20_000)
    parser.add_argument("--singles", type=int, default=50)
    parser.add_argument("--pg-port", type=int, default=55743)
    args = parser.parse_args()
    cluster = start_cluster(args.pg_port)
    try:
        db = open_database(cluster.create_database("civic"))
        upgrade(db)
        seconds, rows = timed_seed(db, args.reports)
        print(f"bulk: {rows:,} reports inserted in {seconds:.1f} s, "
              f"{1000 * seconds / rows:.2f} ms a report", flush=True)
        samples = single_inserts(db, args.singles)
        print(f"single inserts (own transaction each): p50 {statistics.median(samples):.2f} ms, "
              f"first {samples[0]:.2f} ms, max {max(samples):.2f} ms", flush=True)
        print("\n".join(trigger_times(db)))
        db.close()
    finally:
        cluster.stop()


if __name__ == "__main__":
    main()
