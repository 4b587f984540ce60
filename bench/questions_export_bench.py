"""Answers in the public CSV export: what reading them costs, batched and one query per row.

Run: .venv/bin/python bench/questions_export_bench.py [--reports 100000] [--answered 0.5]

Seeds N reports over the demo city (besides the demo's own ~1,000, with its questions) and
gives a share of them (``--answered``) three public answers and one staff-only answer. Then
writes the whole public CSV (``app.reporting.public.csv_chunks``, which streams) three ways,
same database, same run:

- no answers: the CSV as before issue 18 (answer rows removed from a copy of the database);
- batched: today's export, the answers read 500 reports at a time (``questions.with_answers``);
- per row: the same columns with one answers query per report, the shape we avoided.

Prints each way's CPU time (rows per second, and against the CSV without answers) and
wall time, best of ``--repeat`` interleaved runs: CPU time, because the machine is shared.
"""

import argparse
import shutil
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from map_bench import seed  # noqa: E402

from app.reporting import public, questions  # noqa: E402
from app.storage import open_database, upgrade  # noqa: E402
from app.storage import questions as question_rows  # noqa: E402
from app.storage.public import ReportQuery  # noqa: E402


class Links:
    """The two links the export writes, without a Flask app."""

    def report(self, report_id):
        return f"http://bench.local/reports/{report_id}"

    def photo(self, name):
        return f"http://bench.local/photos/{name}"


def answer_rows(report_ids, rng):
    sizes = np.array(["small", "medium", "large"], dtype=object)
    for report_id in report_ids:
        size = sizes[rng.integers(0, 3)]
        yield report_id, [
            {"code": "size", "question": "How big is the pothole?",
             "datatype": "singlevaluelist", "value": size, "shown": size, "public": True},
            {"code": "depth_cm", "question": "About how deep is it, in centimetres?",
             "datatype": "number", "value": 5.0, "shown": "5", "public": True},
            {"code": "lane", "question": "Where is it on the road?",
             "datatype": "singlevaluelist", "value": "bike", "shown": "In a bike lane",
             "public": True},
            {"code": "note", "question": "For the crew", "datatype": "text",
             "value": "Behind the bus stop", "shown": "Behind the bus stop", "public": False},
        ]


def build(folder, count, answered):
    db = open_database(folder / "civic.sqlite3")
    upgrade(db)
    rng = np.random.default_rng(18)
    seed(db, count, rng)
    ids = [row[0] for row in db.execute("SELECT id FROM reports ORDER BY id")]
    chosen = rng.choice(ids, int(len(ids) * answered), replace=False).tolist()
    with db.atomic():
        for report_id, answers in answer_rows(sorted(chosen), rng):
            question_rows.insert_answers(db, report_id, answers)
    db.conn.close()
    return len(ids), len(chosen)


def one_query_per_row(db, rows, public_only=True):
    """``questions.with_answers`` as we did not write it: a query for every report."""
    for row in rows:
        yield row, question_rows.shown_answers_of(db, [row["id"]], public_only).get(row["id"], [])


def per_row_chunks(db, query, links):
    """Today's CSV code with one answers query per report (for comparison only)."""
    batched, questions.with_answers = questions.with_answers, one_query_per_row
    try:
        yield from public.csv_chunks(db, query, links)
    finally:
        questions.with_answers = batched


def timed(path, chunks):
    """(wall seconds, CPU seconds, characters) of one whole export."""
    db = open_database(path)
    wall, cpu = time.perf_counter(), time.process_time()
    size = sum(len(chunk) for chunk in chunks(db, ReportQuery(), Links()))
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    db.conn.close()
    return wall, cpu, size


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reports", type=int, default=100_000)
    parser.add_argument("--answered", type=float, default=0.5)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        folder = Path(folder)
        stored, answered = build(folder, args.reports, args.answered)
        bare = folder / "bare.sqlite3"
        shutil.copy(folder / "civic.sqlite3", bare)
        db = open_database(bare)
        db.execute("DELETE FROM report_answers")
        db.conn.commit()
        db.conn.close()
        print(f"{stored:,} reports, {answered:,} with 3 public and 1 staff answer")
        ways = {"no answers (before)": (bare, public.csv_chunks),
                "batched (today)": (folder / "civic.sqlite3", public.csv_chunks),
                "one query per row": (folder / "civic.sqlite3", per_row_chunks)}
        best = {label: (float("inf"), float("inf"), 0) for label in ways}
        for _ in range(args.repeat):  # interleaved, so a busy moment hits every way
            for label, (path, chunks) in ways.items():
                wall, cpu, size = timed(path, chunks)
                best[label] = (min(best[label][0], wall), min(best[label][1], cpu), size)
        baseline = best["no answers (before)"][1]
        for label, (wall, cpu, size) in best.items():
            print(f"{label:22} CPU {cpu:6.2f} s ({stored / cpu:8,.0f} rows/s, "
                  f"x{cpu / baseline:.2f})  wall {wall:6.2f} s  {size / 1e6:6.1f} MB")


if __name__ == "__main__":
    main()
