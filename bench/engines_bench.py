"""Map API and submission path on PostgreSQL vs SQLite: same run, same reports, same views.

Run: .venv/bin/python bench/engines_bench.py [--reports 1000000] [--runs 100]
                                             [--submissions 100] [--photo-submissions 20]
                                             [--keep FOLDER] [--optimize]

Seeds the same reports (bench/map_bench.py's seed, from the same random numbers: same points,
categories, statuses and dates) into a SQLite file and into a PostgreSQL + PostGIS database
on a throwaway cluster (unix socket only, durable settings), each through the app's own
storage and triggers. Then one app per engine, the same code, answers through Flask's test
client (the whole HTTP request, in this process): the same neighbourhood views (~2,000
reports each, points), the whole-city view (clustered), and submissions (POST /report/new,
without a photo: the storage path; with the load test's 1600x1200 photo: what a resident
sends). Each case is asked of both engines one after the other, alternating which goes first,
so a busy moment of this shared machine weighs on both alike. Prints per engine
``neighbourhood http p50``, ``whole-city http p50``, ``submissions/s`` and the ratio
PostgreSQL / SQLite, with the load average.

Submissions are also sent to PostgreSQL with lazy commits (``synchronous_commit=off``):
SQLite in WAL mode with synchronous=NORMAL, as the app runs it, does not wait for the disk
at commit either, where PostgreSQL's default waits for its log to reach the disk. Both
figures are printed: durable is what a PostgreSQL deployment gets by default, lazy is the
like-for-like comparison. ``--optimize`` runs ``db optimize`` first (PostgreSQL: CLUSTER
map_features), as nightly or after a bulk load; without it the map's rows lie on
PostgreSQL in the seed's order, which is arrival order: the worst case.
"""

import argparse
import contextlib
import io
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

from load_test import photo_bytes  # noqa: E402
from map_bench import bbox_arg, neighbourhood_boxes, seed  # noqa: E402
from pg_cluster import start_cluster  # noqa: E402

from app import create_app  # noqa: E402
from app.storage import areas as area_rows  # noqa: E402
from app.storage import public as public_rows  # noqa: E402
from app.storage import upgrade  # noqa: E402
from app.web.db import get_db  # noqa: E402

ENGINES = ("sqlite", "postgresql")
SUBMISSION = {"lon": "-118.2437", "lat": "34.0522", "category": "pothole",
              "description": "Engines bench pothole"}


def make_app(folder, database_url=None):
    config = {"SECRET_KEY": "bench", "DATABASE": str(folder / "bench.sqlite3"),
              "PHOTO_STORE": str(folder / "photos"), "SERVER_NAME": "bench.local",
              "WTF_CSRF_ENABLED": False, "RATE_LIMITS_ON": False}
    if database_url:
        config["DATABASE_URL"] = database_url
    return create_app(config)


def seeded(app, count):
    """Migrate and seed the app's database with ``count`` reports; the seconds it took, or
    None when a kept database already holds them."""
    with app.app_context():
        db = get_db()
        upgrade(db)
        kept = db.execute("SELECT count(*) FROM reports WHERE source = 'bench'").fetchone()[0]
        if kept and kept != count:
            raise SystemExit(f"the kept database holds {kept:,} seeded reports, not {count:,} "
                             "(another --reports, or a seed cut short): use another folder")
        if kept:
            return None
        start = time.perf_counter()
        seed(db, count, np.random.default_rng(11))
        return time.perf_counter() - start


def views(apps, runs):
    """The neighbourhood boxes (from the SQLite copy: the data is the same) and the city."""
    with apps["sqlite"].app_context():
        db = get_db()
        total = db.execute("SELECT count(*) FROM reports WHERE source = 'bench'").fetchone()[0]
        boxes = neighbourhood_boxes(db, runs, np.random.default_rng(12), total)
        return boxes, area_rows.coverage_bounds(db)


def timed_alternately(clients, cases, ask):
    """Each case asked of every engine, the first one alternating; milliseconds per engine."""
    samples = {name: [] for name in clients}
    for n, case in enumerate(cases):
        order = list(clients) if n % 2 == 0 else list(reversed(clients))
        for name in order:
            start = time.perf_counter()
            ask(clients[name], case)
            samples[name].append((time.perf_counter() - start) * 1000)
    return samples


def view(client, bbox):
    response = client.get(f"/api/reports.geojson?bbox={bbox_arg(bbox)}")
    assert response.status_code == 200, response.status_code
    return response.data


def submit(client, photo):
    files = {"photos": (io.BytesIO(photo), "p.jpg")} if photo else {}
    response = client.post("/report/new", data={**SUBMISSION, **files})
    assert response.status_code == 303, response.status_code


def same_answers(clients, boxes):
    """Features and clustering of each view, compared between the engines. The reports this
    bench submits are left out: with ``--keep`` they pile up, and PostgreSQL gets more of
    them (its lazy-commit client submits too)."""
    differing = 0
    for bbox in boxes:
        answers = [json.loads(view(client, bbox)) for client in clients.values()]
        shapes = {(a["clustered"], sum(f["properties"].get("description")
                                       != SUBMISSION["description"] for f in a["features"]))
                  for a in answers}
        differing += len(shapes) > 1
    return differing


def summary(label, samples):
    """``<engine> <label> p50 <ms> ms`` for each engine, and each PostgreSQL's over SQLite's."""
    p50 = {name: statistics.median(values) for name, values in samples.items()}
    line = "  ".join(f"{name} {label} p50 {p50[name]:.1f} ms" for name in samples)
    ratios = ", ".join(f"{name} / sqlite {p50[name] / p50['sqlite']:.2f}x"
                       for name in samples if name != "sqlite")
    return f"{line}  ({ratios})"


def lazy_commits(url):
    """The same database, its sessions committing as SQLite's WAL with synchronous=NORMAL
    does: a commit returns before the disk has its log (``synchronous_commit=off``); a
    crash of the machine may lose the last moment's commits, never corrupts. The like-for-
    like comparison of write latency, beside PostgreSQL's durable default."""
    return f"{url}{'&' if '?' in url else '?'}options=-c%20synchronous_commit%3Doff"


def grid_ordered(apps):
    """``db optimize`` on each engine (PostgreSQL: CLUSTER map_features); its seconds."""
    seconds = {}
    for name, app in apps.items():
        with app.app_context():
            start = time.perf_counter()
            public_rows.put_map_in_grid_order(get_db())
            seconds[name] = time.perf_counter() - start
    return seconds


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--reports", type=int, default=1_000_000)
    parser.add_argument("--runs", type=int, default=100)
    parser.add_argument("--submissions", type=int, default=100)
    parser.add_argument("--photo-submissions", type=int, default=20)
    parser.add_argument("--pg-port", type=int, default=55742)
    parser.add_argument("--optimize", action="store_true",
                        help="run db optimize on both engines before measuring (PostgreSQL: "
                             "CLUSTER map_features), as after a bulk load or nightly")
    parser.add_argument("--keep", metavar="FOLDER",
                        help="seed both engines into FOLDER and keep it; a later run with the "
                             "same FOLDER (and --reports) measures without seeding again")
    args = parser.parse_args()
    with contextlib.ExitStack() as stack:
        if args.keep:
            folder = Path(args.keep).resolve()
            cluster = start_cluster(args.pg_port, folder / "cluster")
            stack.callback(cluster.stop_keeping_data)
        else:
            folder = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="engines-")))
            cluster = start_cluster(args.pg_port)
            stack.callback(cluster.stop)
        urls = {"sqlite": None, "postgresql": cluster.database("civic")}
        apps = {}
        for name in ENGINES:
            (folder / name).mkdir(parents=True, exist_ok=True)
            apps[name] = make_app(folder / name, urls[name])
            seconds = seeded(apps[name], args.reports)
            done = "kept" if seconds is None else f"seeded in {seconds:.0f} s"
            print(f"{name}: {args.reports:,} reports {done} "
                  f"(load average {os.getloadavg()[0]:.2f})", flush=True)
        if args.optimize:
            seconds = grid_ordered(apps)
            print("db optimize: " + ", ".join(f"{name} {s:.1f} s" for name, s in seconds.items()),
                  flush=True)
        boxes, city = views(apps, args.runs)
        clients = {name: apps[name].test_client() for name in ENGINES}
        print(f"views whose answer differs between the engines: {same_answers(clients, boxes)} "
              f"of {len(boxes)}", flush=True)
        for label, cases in (("neighbourhood http", boxes), ("whole-city http", [city] * 30)):
            line = summary(label, timed_alternately(clients, cases, view))
            print(f"{line} (load average {os.getloadavg()[0]:.2f})", flush=True)
        lazy = make_app(folder / "postgresql", lazy_commits(urls["postgresql"]))
        clients["postgresql, lazy commits"] = lazy.test_client()
        photo = photo_bytes(1)
        for label, count, with_photo in (("submission", args.submissions, None),
                                         ("submission with photo", args.photo_submissions,
                                          photo)):
            samples = timed_alternately(clients, range(count),
                                        lambda client, _n, p=with_photo: submit(client, p))
            line = summary(label, samples)
            rates = "  ".join(f"{name} {1000 * len(v) / sum(v):.1f} {label}s/s"
                              for name, v in samples.items())
            print(f"{line}\n    {rates} (one at a time; load average "
                  f"{os.getloadavg()[0]:.2f})", flush=True)


if __name__ == "__main__":
    main()
