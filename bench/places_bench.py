"""Places benchmark: address search and reverse geocoding over 1,000,000 address points.

Run: .venv/bin/python bench/places_bench.py [--points N] [--queries N] [--scans N]
         [--database-url postgresql://...]

With ``--database-url`` the run uses that PostgreSQL database (an empty one: the run creates
the schema) instead of a SQLite file; "CPU" is then this process's share only, the server's
work is in the wall-clock times.

Seeds the demo city (its real MyLA311 addresses) plus N synthetic address points (streets of
40 numbers, 15 m apart, named from a vocabulary, over the demo's districts), written as an
OpenAddresses CSV and loaded through ``load_address_file`` as ``addresses load`` does (the
load time is printed). Then, in the same run and on the same database:

- search: ``GET /api/places?q=`` (the whole request, Flask test client) for prefixes of 3 or
  more characters of addresses as a resident types them (varied case and abbreviations),
  p50/p99; beside it the straightforward way, ``address LIKE '%prefix%'`` over every point;
- reverse: ``GET /api/places/reverse`` at random points of the city, p50/p99; beside it a
  scan for the nearest point (``ORDER BY`` squared distance over every point).

Prints the lines ``search http p50 <ms> ms p99 <ms> ms``, ``reverse http p50 ...``, the
baselines and the ratios; then ``reports geocode``'s way of answering many places at once
beside one gazetteer query per place.
"""

import argparse
import csv
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from app import create_app  # noqa: E402
from app.demo import load_demo  # noqa: E402
from app.reporting.address_load import load_address_file  # noqa: E402
from app.reporting.areas import build_router  # noqa: E402
from app.reporting.places import REVERSE_MAX_M, LocalGazetteer  # noqa: E402
from app.storage import areas as area_rows  # noqa: E402
from app.storage import upgrade  # noqa: E402
from app.web.db import get_db  # noqa: E402
from geo.nearest import nearest_within  # noqa: E402

NUMBERS_PER_STREET = 40
STEP_M = 15.0
FIRST = ["Oak", "Maple", "Cedar", "Pine", "Elm", "Willow", "Birch", "Aspen", "Laurel", "Sycamore",
         "Magnolia", "Jasmine", "Sunset", "Vista", "Hill", "Lake", "River", "Canyon", "Mesa",
         "Valley", "Ridge", "Harbor", "Bay", "Crest", "Park", "Grand", "Central", "Mission",
         "Olive", "Orange", "Lemon", "Palm", "Rose", "Lily", "Iris", "Juniper", "Alder",
         "Hazel", "Holly", "Ivy"]
SECOND = ["", "wood", "dale", "view", "field", "ford", "brook", "mont", "land", "side",
          "crest", "haven", "glen", "gate", "wick", "ton", "ley", "ridge", "shire", "way"]
TYPES = ["St", "Ave", "Blvd", "Dr", "Pl", "Way", "Rd", "Ln", "Ct", "Ter"]
DIRECTIONS = ["", "N", "S", "E", "W"]
ZIPS = [f"9{n:04d}" for n in range(1001, 1100)]
LONG_FORMS = {"N": "North", "S": "South", "E": "East", "W": "West", "St": "Street",
              "Ave": "Avenue", "Blvd": "Boulevard", "Dr": "Drive"}


def make_app(folder, database_url=None):
    return create_app({"SECRET_KEY": "bench", "DATABASE": str(folder / "bench.sqlite3"),
                       "DATABASE_URL": database_url, "PHOTO_STORE": str(folder / "photos"),
                       "SERVER_NAME": "bench.local"})


def street_names(rng, count):
    """``count`` street names (direction, name, type), distinct where the vocabulary allows."""
    names = [(d, f + s, t) for f in FIRST for s in SECOND for t in TYPES for d in DIRECTIONS]
    order = rng.permutation(len(names))
    return [names[i % len(names)] for i in order[:count]]


def synthetic_csv(path, db, rng, points):
    """Write exactly ``points`` address points inside the service areas (streets of 40
    numbers; a number outside every area is left out) as an OpenAddresses CSV; return some
    written rows as (address text, lon, lat), to type searches from."""
    router = build_router(db)
    min_lon, min_lat, max_lon, max_lat = area_rows.coverage_bounds(db)
    names = street_names(rng, 2 * points // NUMBERS_PER_STREET)
    written, count = [], 0
    steps = np.arange(NUMBERS_PER_STREET)
    with open(path, "w", newline="", encoding="utf-8") as handle:
        out = csv.writer(handle)
        out.writerow(["LON", "LAT", "NUMBER", "STREET", "UNIT", "CITY", "DISTRICT", "REGION",
                      "POSTCODE", "ID", "HASH"])
        for number, (direction, name, kind) in enumerate(names):
            if count >= points:
                break
            lons, lats = _street_points(rng, router, steps,
                                        (min_lon, min_lat, max_lon, max_lat))
            inside = np.flatnonzero(router.covers_many(lons, lats))[: points - count]
            street = " ".join(p for p in (direction, name, kind) if p)
            first = int(rng.integers(1, 200)) * 100
            for i in inside.tolist():
                out.writerow([f"{lons[i]:.7f}", f"{lats[i]:.7f}", first + 2 * i, street.upper(),
                              "", "LOS ANGELES", "", "CA", ZIPS[number % len(ZIPS)], "", ""])
                if i % 10 == 0:
                    written.append((f"{first + 2 * i} {street}", lons[i], lats[i]))
            count += inside.size
    return written


def _street_points(rng, router, steps, bounds):
    """Positions 15 m apart along a straight street, in any direction, from a random start
    inside the service areas."""
    min_lon, min_lat, max_lon, max_lat = bounds
    lon, lat = rng.uniform(min_lon, max_lon), rng.uniform(min_lat, max_lat)
    while not router.covers_many([lon], [lat])[0]:
        lon, lat = rng.uniform(min_lon, max_lon), rng.uniform(min_lat, max_lat)
    angle = rng.uniform(0, np.pi)
    metres_lat = 1 / 111_320.0
    dlon = np.cos(angle) * STEP_M * metres_lat / np.cos(np.radians(lat))
    dlat = np.sin(angle) * STEP_M * metres_lat
    return lon + steps * dlon, lat + steps * dlat


def typed_prefixes(rng, samples, count):
    """Prefixes (3+ characters) of addresses as typed: case and abbreviations varied."""
    queries = []
    for index in rng.integers(0, len(samples), count):
        text = samples[int(index)][0]
        words = text.split()
        if rng.random() < 0.3:
            words = [LONG_FORMS.get(w, w) for w in words]
        if rng.random() < 0.3:
            words = words[1:]  # the street alone
        text = " ".join(words)
        text = text.lower() if rng.random() < 0.5 else text
        queries.append(text[: int(rng.integers(3, len(text) + 1))])
    return queries


def timed_ms(call, items):
    """Wall-clock and CPU (this process) milliseconds of each call: on a shared machine the
    wall clock includes waiting for a core, the CPU time is what the request costs."""
    wall, cpu = [], []
    for item in items:
        started, started_cpu = time.perf_counter(), time.process_time()
        call(item)
        wall.append((time.perf_counter() - started) * 1000)
        cpu.append((time.process_time() - started_cpu) * 1000)
    return wall, cpu


def summary(times):
    ordered = sorted(times)
    p99 = ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))]
    return statistics.median(times), p99


def report(label, timings, what):
    (p50, p99), (cpu50, cpu99) = summary(timings[0]), summary(timings[1])
    print(f"{label} p50 {p50:.2f} ms p99 {p99:.2f} ms (CPU p50 {cpu50:.2f} ms p99 "
          f"{cpu99:.2f} ms) over {what}")
    return p50, cpu50


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--points", type=int, default=1_000_000)
    parser.add_argument("--queries", type=int, default=2000)
    parser.add_argument("--scans", type=int, default=40, help="queries for each baseline scan")
    parser.add_argument("--database-url", help="an empty PostgreSQL database to run on")
    options = parser.parse_args()
    rng = np.random.default_rng(15)
    with tempfile.TemporaryDirectory() as folder:
        app = make_app(Path(folder), options.database_url)
        with app.app_context():
            db = get_db()
            upgrade(db)
            load_demo(db)
            real = [(r[0], r[1], r[2]) for r in db.execute("SELECT address, lon, lat FROM "
                                                          "addresses WHERE number != ''")]
            samples = synthetic_csv(Path(folder) / "addresses.csv", db, rng, options.points)
            _append_real(Path(folder) / "addresses.csv", real)
            started, started_cpu = time.perf_counter(), time.process_time()
            load = load_address_file(db, Path(folder) / "addresses.csv")
            print(f"loaded {load.loaded:,} address points on {load.streets:,} streets in "
                  f"{time.perf_counter() - started:.1f} s (CPU "
                  f"{time.process_time() - started_cpu:.1f} s; {load.outside:,} outside the "
                  "areas skipped)")
            run_searches(app, db, rng, samples + real, options)
            run_reverse(app, db, rng, options)
            run_geocode(db, rng)


def _append_real(path, real):
    """The demo's real addresses join the synthetic ones (one-line text in STREET)."""
    with open(path, "a", newline="", encoding="utf-8") as handle:
        out = csv.writer(handle)
        for address, lon, lat in real:
            number, _, rest = address.partition(" ")
            street, _, postcode = rest.partition(", ")
            out.writerow([lon, lat, number, street, "", "", "", "CA", postcode, "", ""])


def run_searches(app, db, rng, samples, options):
    client = app.test_client()
    queries = typed_prefixes(rng, samples, options.queries)
    for query in queries[:50]:  # warm the page cache
        client.get("/api/places", query_string={"q": query})
    found = []

    def ask(query):
        answer = client.get("/api/places", query_string={"q": query})
        found.append(bool(answer.get_json()["features"]))

    p50, cpu50 = report("search http", timed_ms(ask, queries),
                        f"{len(queries)} prefixes (3+ characters; "
                        f"{sum(found) / len(found):.0%} with a result)")

    def like(query):
        db.execute("SELECT address, lon, lat FROM addresses WHERE address LIKE ? LIMIT 10",
                   [f"%{query}%"]).fetchall()

    base50, base_cpu50 = report("search LIKE scan", timed_ms(like, queries[: options.scans]),
                                f"{options.scans} prefixes")
    print(f"search ratio (LIKE scan / http) p50 {base50 / p50:.0f}x, CPU "
          f"{base_cpu50 / cpu50:.0f}x")


def run_reverse(app, db, rng, options):
    client = app.test_client()
    min_lon, min_lat, max_lon, max_lat = area_rows.coverage_bounds(db)
    router = build_router(db)
    lons = rng.uniform(min_lon, max_lon, options.queries * 3)
    lats = rng.uniform(min_lat, max_lat, options.queries * 3)
    inside = router.covers_many(lons, lats)
    points = list(zip(lons[inside], lats[inside], strict=True))[: options.queries]
    found = []

    def ask(point):
        answer = client.get("/api/places/reverse", query_string={"lon": point[0],
                                                                 "lat": point[1]})
        found.append(bool(answer.get_json()["features"]))

    p50, cpu50 = report("reverse http", timed_ms(ask, points),
                        f"{len(points)} points ({sum(found) / len(found):.0%} within 150 m "
                        "of an address)")

    def scan(point):
        db.execute("SELECT address FROM addresses ORDER BY (lon - ?) * (lon - ?) + "
                   "(lat - ?) * (lat - ?) LIMIT 1", [point[0], point[0], point[1],
                                                     point[1]]).fetchall()

    base50, base_cpu50 = report("reverse nearest scan", timed_ms(scan, points[: options.scans]),
                                f"{options.scans} points")
    print(f"reverse ratio (scan / http) p50 {base50 / p50:.0f}x, CPU "
          f"{base_cpu50 / cpu50:.0f}x")


def run_geocode(db, rng, places=100_000, one_by_one=1000):
    """What ``reports geocode`` does for many reports: every place at once from one STRtree
    (geo.nearest) against one gazetteer query per place."""
    min_lon, min_lat, max_lon, max_lat = area_rows.coverage_bounds(db)
    lons = rng.uniform(min_lon, max_lon, places)
    lats = rng.uniform(min_lat, max_lat, places)
    started, started_cpu = time.perf_counter(), time.process_time()
    points = db.execute("SELECT lon, lat FROM addresses").fetchall()
    point_lons, point_lats = (np.array(column) for column in zip(*points, strict=True))
    nearest_within(point_lons, point_lats, lons, lats, REVERSE_MAX_M)
    wall, cpu = time.perf_counter() - started, time.process_time() - started_cpu
    print(f"geocode all at once: {places:,} places in {wall:.1f} s (CPU {cpu:.1f} s), "
          f"{cpu / places * 1e6:.0f} us CPU each")
    gazetteer = LocalGazetteer(db)
    started_cpu = time.process_time()
    for lon, lat in zip(lons[:one_by_one].tolist(), lats[:one_by_one].tolist(), strict=True):
        gazetteer.nearest(lon, lat)
    each = (time.process_time() - started_cpu) / one_by_one
    print(f"geocode one by one: {each * 1e6:.0f} us CPU each over {one_by_one:,} places; "
          f"ratio {each / (cpu / places):.0f}x")


if __name__ == "__main__":
    main()
