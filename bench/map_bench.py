"""Map API benchmark: 1,000,000 reports over the demo city, R*Tree + cell counts vs a B-tree.

Run: .venv/bin/python bench/map_bench.py [--reports N] [--runs N]

Prints p50/p99 of the viewport answer (query + GeoJSON text) for neighbourhood-sized views
(~2,000 reports) and for the whole city (clustered), the same questions answered in the same
run on a copy of the database that has only a plain B-tree index on (lon, lat), and the
whole HTTP request through the Flask test client. Then streams the CSV and GeoJSON exports
of every report and prints the peak memory (VmHWM growth of a fresh process) and time.
"""

import argparse
import json
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from measure import high_water_kb  # noqa: E402

from app import create_app
from app.demo import load_demo  # noqa: E402
from app.reporting import public  # noqa: E402
from app.reporting.areas import build_router  # noqa: E402
from app.storage import areas as area_rows  # noqa: E402
from app.storage import catalog, open_database, upgrade  # noqa: E402
from app.storage import reports as report_rows  # noqa: E402
from app.storage.public import PUBLIC_COLUMNS  # noqa: E402
from app.web.db import get_db  # noqa: E402

STATUSES = ["new", "acknowledged", "in_progress", "fixed", "closed"]
LIMIT = 2000
BATCH = 100_000


def make_app(folder):
    return create_app({"SECRET_KEY": "bench", "DATABASE": str(folder / "bench.sqlite3"),
                       "PHOTO_DIR": str(folder / "photos"), "SERVER_NAME": "bench.local"})


def seed(db, count, rng):
    """``count`` reports at random points inside the city, routed like real ones."""
    load_demo(db)
    router = build_router(db)
    categories = {c["code"]: c["id"] for c in catalog.all_categories(db)}
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
        days = rng.integers(0, 1500, keep.size)
        rows = [{
            "category_id": categories[chosen[i]],
            "service_id": services[router.areas[int(areas[i])].service],
            "area_id": int(areas[i]), "boundary_version_id": router.version,
            "lon": float(lons[i]), "lat": float(lats[i]),
            "description": f"Seeded report {stored + n}", "status": STATUSES[n % 5],
            "source": "bench", "created_at": f"{2021 + d // 365}-01-01T00:00:00+00:00",
            "updated_at": f"{2021 + d // 365}-01-01T00:00:00+00:00",
        } for n, (i, d) in enumerate(zip(keep.tolist(), days.tolist(), strict=True))]
        report_rows.insert_reports_bulk(db, rows)
        stored += len(rows)
    return stored


def btree_copy(path, folder):
    """The same reports with a plain B-tree on (lon, lat) instead of the map indexes."""
    copy = folder / "btree.sqlite3"
    shutil.copy(path, copy)
    db = open_database(copy)
    db.execute("CREATE INDEX reports_lonlat ON reports(lon, lat)")
    db.execute("ANALYZE")
    return db


def btree_view(db, bbox, links, shape=True):
    """The viewport answered with the B-tree: points, or clusters grouped from the rows."""
    min_lon, min_lat, max_lon, max_lat = bbox
    where = ("FROM reports r JOIN categories c ON c.id = r.category_id "
             "JOIN services s ON s.id = r.service_id "
             "WHERE r.lon BETWEEN ? AND ? AND r.lat BETWEEN ? AND ?")
    params = [min_lon, max_lon, min_lat, max_lat]
    count = db.execute(f"SELECT count(*) FROM (SELECT 1 {where} LIMIT ?)",
                       [*params, LIMIT + 1]).fetchone()[0]
    if count <= LIMIT:
        found = db.query(f"SELECT {PUBLIC_COLUMNS} {where} ORDER BY r.created_at DESC LIMIT ?",
                         [*params, LIMIT])
        return [public.report_feature(r, links) for r in found] if shape else list(found)
    size = max(max_lon - min_lon, max_lat - min_lat) / public.CELLS_ACROSS
    return list(db.query(
        f"SELECT count(*) AS n, avg(r.lon), avg(r.lat) {where} "
        "GROUP BY CAST((r.lon + 180) / ? AS INTEGER), CAST((r.lat + 90) / ? AS INTEGER)",
        [*params, size, size]))


class Links:
    @staticmethod
    def report(report_id):
        return f"http://bench.local/reports/{report_id}"

    @staticmethod
    def photo(name):
        return f"http://bench.local/photos/{name}"


def timed(function, cases):
    samples = []
    for case in cases:
        start = time.perf_counter()
        function(case)
        samples.append((time.perf_counter() - start) * 1000)
    samples.sort()
    return statistics.median(samples), samples[min(len(samples) - 1, int(len(samples) * 0.99))]


def neighbourhood_boxes(db, runs, rng, total):
    """Boxes around random reports, sized to hold about 2,000 reports on average."""
    min_lon, min_lat, max_lon, max_lat = area_rows.coverage_bounds(db)
    side = np.sqrt((max_lon - min_lon) * (max_lat - min_lat) * 0.35 * 1800 / total)
    centres = list(db.query("SELECT lon, lat FROM reports ORDER BY random() LIMIT ?", [runs]))
    return [(c["lon"] - side / 2, c["lat"] - side / 2, c["lon"] + side / 2, c["lat"] + side / 2)
            for c in centres]


def bbox_arg(bbox):
    return ",".join(f"{v:.6f}" for v in bbox)


def export_child(folder, kind):
    """Stream one export through the app in this fresh process; print peak MB and seconds."""
    app = make_app(Path(folder))
    client = app.test_client()
    before = high_water_kb()
    start = time.perf_counter()
    url = "/api/reports.csv" if kind == "csv" else "/api/reports.geojson?download=1"
    response = client.get(url, buffered=False)
    size = sum(len(chunk) for chunk in response.response)
    response.close()
    print(f"{(high_water_kb() - before) / 1024:.1f} {time.perf_counter() - start:.1f} "
          f"{size / 1e6:.0f}")




def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--reports", type=int, default=1_000_000)
    parser.add_argument("--runs", type=int, default=100)
    parser.add_argument("--export-child", nargs=2, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.export_child:
        export_child(*args.export_child)
        return
    rng = np.random.default_rng(11)
    with tempfile.TemporaryDirectory() as name:
        folder = Path(name)
        app = make_app(folder)
        with app.app_context():
            db = get_db()
            upgrade(db)
            start = time.perf_counter()
            total = seed(db, args.reports, rng)
            print(f"seeded {total:,} reports in {time.perf_counter() - start:.0f} s "
                  "(R*Tree and cell counts kept by triggers)")
            boxes = neighbourhood_boxes(db, args.runs, rng, total)
            counts = [public.rows.count_reports(db, public.ReportQuery(bbox=b)) for b in boxes]
            city = area_rows.coverage_bounds(db)
        baseline = btree_copy(folder / "bench.sqlite3", folder)
        indexed = open_database(folder / "bench.sqlite3")
        client = app.test_client()

        def http(bbox):
            response = client.get(f"/api/reports.geojson?bbox={bbox_arg(bbox)}")
            assert response.status_code == 200
            return response.data

        def ours(bbox):
            query = public.ReportQuery(bbox=bbox)
            return json.dumps(public.viewport(indexed, query, Links, LIMIT))

        def plain(bbox):
            return json.dumps(btree_view(baseline, bbox, Links))

        def ours_query(bbox):
            query = public.ReportQuery(bbox=bbox)
            if not public.rows.more_than(indexed, query, LIMIT):
                return public.rows.reports_in_view(indexed, query, LIMIT)
            return public.clusters(indexed, query)

        def plain_query(bbox):
            return btree_view(baseline, bbox, Links, shape=False)

        print(f"neighbourhood views: {len(boxes)} boxes, reports per box median "
              f"{statistics.median(counts):.0f} (min {min(counts)}, max {max(counts)})")
        for label, cases in (("neighbourhood", boxes), ("whole city", [city] * 30)):
            p50, p99 = timed(ours, cases)
            b50, b99 = timed(plain, cases)
            h50, h99 = timed(http, cases)
            q50, q99 = timed(ours_query, cases)
            c50, c99 = timed(plain_query, cases)
            print(f"{label:13}  answer (query + GeoJSON): R*Tree + cells p50 {p50:6.1f} ms "
                  f"p99 {p99:6.1f} ms | B-tree p50 {b50:6.1f} ms p99 {b99:6.1f} ms | "
                  f"{b50 / p50:5.1f}x")
            print(f"{'':13}  query only:               R*Tree + cells p50 {q50:6.1f} ms "
                  f"p99 {q99:6.1f} ms | B-tree p50 {c50:6.1f} ms p99 {c99:6.1f} ms | "
                  f"{c50 / q50:5.1f}x")
            print(f"{'':13}  whole HTTP request (test client): p50 {h50:6.1f} ms "
                  f"p99 {h99:6.1f} ms")
        for kind in ("csv", "geojson"):
            peak, seconds, size = subprocess.run(
                [sys.executable, __file__, "--export-child", str(folder), kind],
                check=True, capture_output=True, text=True).stdout.split()
            print(f"export {kind:7}: {size} MB streamed in {seconds} s, "
                  f"peak extra memory {peak} MB")


if __name__ == "__main__":
    main()
