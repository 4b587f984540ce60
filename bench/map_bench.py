"""Map API benchmark: 1,000,000 reports over the demo city, the answer written by SQLite vs
the previous implementation (rows fetched into Python, GeoJSON built by ``json``).

Run: .venv/bin/python bench/map_bench.py [--reports N] [--runs N] [--rounds N]
     [--spatial-order] [--keep FOLDER] [--views-only] [--also FOLDER]

Prints p50/p99 of the whole HTTP request (Flask test client) for neighbourhood-sized views
(~2,000 reports, points) and for the whole city (clustered), for today's answer, for the
points read as before m023 (``before-m023``: the R*Tree's ids, the rows of ``reports``,
``json_object`` per feature; checked byte for byte equal to today's) and for the previous
implementation, served by the same app in the same run, interleaved; among them exactly
the lines ``neighbourhood http p50 <ms> ms`` and ``whole-city http p50 <ms> ms``. A view
asked again with its ETag (a 304) is timed too. ``--spatial-order`` seeds the reports
sorted by a Z-order key of their position (ids follow space), to measure what storing
reports in spatial order would save; ``--also FOLDER`` times such a second kept database in
the same run, interleaved with the first. Then (unless ``--views-only``) streams the CSV and
GeoJSON exports of every report and prints the peak memory (VmHWM growth of a fresh
process) and time.
"""

import argparse
import contextlib
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from flask import Response, request

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from measure import high_water_kb  # noqa: E402

from app import create_app
from app.demo import load_demo  # noqa: E402
from app.reporting import public  # noqa: E402
from app.reporting.areas import build_router  # noqa: E402
from app.storage import areas as area_rows  # noqa: E402
from app.storage import catalog, upgrade  # noqa: E402
from app.storage import reports as report_rows  # noqa: E402
from app.storage.public import public_columns  # noqa: E402
from app.web.db import get_db  # noqa: E402
from app.web.links import Links  # noqa: E402

STATUSES = ["new", "acknowledged", "in_progress", "fixed", "closed"]
LIMIT = 2000
BATCH = 100_000


def make_app(folder):
    return create_app({"SECRET_KEY": "bench", "DATABASE": str(folder / "bench.sqlite3"),
                       "PHOTO_STORE": str(folder / "photos"), "SERVER_NAME": "bench.local"})


def seed(db, count, rng, spatial_order=False):
    """``count`` reports at random points inside the city, routed like real ones; with
    ``spatial_order`` they are inserted in Z-order of position (ids follow space)."""
    load_demo(db)
    router = build_router(db)
    categories = {c["code"]: c["id"] for c in catalog.all_categories(db)}
    services = {s["code"]: s["id"] for s in catalog.all_services(db)}
    codes = np.array(sorted(categories), dtype=object)
    min_lon, min_lat, max_lon, max_lat = area_rows.coverage_bounds(db)
    stored = 0
    batch = max(BATCH, 2 * count) if spatial_order else BATCH
    while stored < count:
        lons = rng.uniform(min_lon, max_lon, batch)
        lats = rng.uniform(min_lat, max_lat, batch)
        chosen = codes[rng.integers(0, codes.size, batch)]
        areas = router.route_many(lons, lats, chosen)
        keep = np.flatnonzero(areas >= 0)[: count - stored]
        if spatial_order:
            keep = keep[np.argsort(z_order(lons[keep], lats[keep]), kind="stable")]
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


def previous_viewport(db, query, links, limit):
    """The map answer as it was before the database wrote it: rows into Python, a dict per
    feature, ``json.dumps``; clusters from the cells joined with the catalogue."""
    sql, params = previous_where(query)
    over = db.execute(f"SELECT count(*) FROM (SELECT 1 {sql} LIMIT ?)",
                      [*params, limit + 1]).fetchone()[0] > limit
    if not over:
        found = db.query(f"SELECT {public_columns(db)} {sql} ORDER BY r.created_at DESC LIMIT ?",
                         [*params, limit])
        features = [public.report_feature(r, links) for r in found]
    else:
        features = [{"type": "Feature",
                     "geometry": {"type": "Point", "coordinates": [c["lon"], c["lat"]]},
                     "properties": {"cluster": True, "count": c["count"]}}
                    for c in previous_clusters(db, query)]
    return json.dumps({"type": "FeatureCollection", "clustered": over, "features": features},
                      separators=(",", ":"))


def previous_where(query):
    min_lon, min_lat, max_lon, max_lat = query.bbox
    return ("FROM reports_rtree t JOIN reports r ON r.id = t.id "
            "JOIN categories c ON c.id = r.category_id JOIN services s ON s.id = r.service_id "
            "WHERE NOT r.hidden AND t.max_lon >= ? AND t.min_lon <= ? AND t.max_lat >= ? "
            "AND t.min_lat <= ? AND r.lon BETWEEN ? AND ? AND r.lat BETWEEN ? AND ?",
            [min_lon, max_lon, min_lat, max_lat, min_lon, max_lon, min_lat, max_lat])


def previous_clusters(db, query):
    level, size = public.cell_level(db, query)
    min_lon, min_lat, max_lon, max_lat = query.bbox
    return list(db.query("""
        SELECT sum(k.n) AS count, sum(k.sum_lon) / sum(k.n) AS lon,
               sum(k.sum_lat) / sum(k.n) AS lat
        FROM report_cells k
        JOIN categories c ON c.id = k.category_id JOIN services s ON s.id = k.service_id
        WHERE k.level = ? AND k.cx BETWEEN ? AND ? AND k.cy BETWEEN ? AND ?
        GROUP BY k.cx, k.cy HAVING sum(k.n) > 0
    """, [level, int((min_lon + 180) // size), int((max_lon + 180) // size),
          int((min_lat + 90) // size), int((max_lat + 90) // size)]))


ROWS_FEATURE = """json_object(
    'type', 'Feature', 'id', o.id,
    'geometry', json_object('type', 'Point', 'coordinates', json_array(o.lon, o.lat)),
    'properties', json_object(
        'id', o.id, 'category', c.code, 'category_name', coalesce(tc.name, c.name),
        'status', o.status, 'status_name', CASE o.status {whens}ELSE o.status END,
        'service', s.code, 'service_name', coalesce(ts.name, s.name),
        'created_at', o.created_at, 'updated_at', o.updated_at, 'address', o.address,
        'description', o.description, 'reporter_name', o.reporter_name,
        'supports', o.supports, 'url', ? || o.id,
        'thumbnail', (SELECT ? || p.thumb_name FROM photos p
                      WHERE p.report_id = o.id AND NOT p.hidden
                      ORDER BY p.position LIMIT 1)))"""
ROWS_COLUMNS = """r.id, r.lon, r.lat, r.status, r.category_id, r.service_id, r.created_at,
    r.updated_at, coalesce(r.address_string, r.address) AS address,
    coalesce(r.public_description, r.description) AS description,
    CASE WHEN r.show_name THEN r.reporter_name END AS reporter_name, r.supports"""


def rows_features(db, query, limit, text):
    """The points' answer as it was before m023 (map_features): the R*Tree's ids, the rows
    of ``reports`` sorted under a LIMIT, then ``json_object`` per feature."""
    params = [v for pair in text.status_names.items() for v in pair]
    params += [text.report_prefix, text.photo_prefix]
    min_lon, min_lat, max_lon, max_lat = query.bbox
    params += [min_lon, max_lon, min_lat, max_lat, min_lon, max_lon, min_lat, max_lat, limit,
               text.locale, text.locale]
    feature = ROWS_FEATURE.format(whens="WHEN ? THEN ? " * len(text.status_names))
    return db.execute(f"""
        SELECT CAST('[' || coalesce(group_concat(f, ','), '') || ']' AS BLOB) FROM (
        SELECT {feature} AS f
        FROM (SELECT {ROWS_COLUMNS}
              FROM reports_rtree t JOIN reports r ON r.id = t.id
              WHERE NOT r.hidden AND t.max_lon >= ? AND t.min_lon <= ? AND t.max_lat >= ?
                AND t.min_lat <= ? AND r.lon BETWEEN ? AND ? AND r.lat BETWEEN ? AND ?
              ORDER BY r.created_at DESC, r.id DESC LIMIT ?) AS o
        CROSS JOIN categories c ON c.id = o.category_id
        CROSS JOIN services s ON s.id = o.service_id
        LEFT JOIN name_translations tc
            ON tc.kind = 'category' AND tc.code = c.code AND tc.locale = ?
        LEFT JOIN name_translations ts
            ON ts.kind = 'service' AND ts.code = s.code AND ts.locale = ?)""",
                      params).fetchone()[0]


def add_rows_route(app):
    """The real map view (its rate limit, ETag and headers) with the points read as before
    m023, for the same-run comparison; the bench asks one view at a time, so the swap of
    the one function is seen by this request only. Clusters do not read map_features."""
    def rows_view():
        today = public.rows.features_in_view
        public.rows.features_in_view = rows_features
        try:
            return app.view_functions["reports.reports_geojson"]()
        finally:
            public.rows.features_in_view = today
    app.add_url_rule("/bench/rows.geojson", "bench_rows", rows_view)


def add_previous_route(app):
    """The previous implementation behind the same app, for the HTTP figures."""
    def previous():
        query = public.parse_report_query(request.args, get_db(), require_bbox=True)
        return Response(previous_viewport(get_db(), query, Links(), LIMIT),
                        mimetype="application/geo+json")
    app.add_url_rule("/bench/previous.geojson", "bench_previous", previous)


def z_order(lons, lats):
    """A Z-order (Morton) key of 16 bits per axis: nearby points get nearby keys."""
    x = ((lons + 180) / 360 * 65535).astype(np.uint64)
    y = ((lats + 90) / 180 * 65535).astype(np.uint64)
    key = np.zeros_like(x)
    for bit in range(16):
        key |= ((x >> np.uint64(bit)) & np.uint64(1)) << np.uint64(2 * bit)
        key |= ((y >> np.uint64(bit)) & np.uint64(1)) << np.uint64(2 * bit + 1)
    return key


def timed(functions, cases):
    """p50 and p99 of each function over the cases, interleaved (each case asked of every
    function in turn, the order rotating), so that a load that comes and goes weighs on
    every variant alike."""
    samples = [[] for _ in functions]
    for number, case in enumerate(cases):
        for k in range(len(functions)):
            which = (number + k) % len(functions)
            start = time.perf_counter()
            functions[which](case)
            samples[which].append((time.perf_counter() - start) * 1000)
    return [(statistics.median(found), sorted(found)[min(len(found) - 1, int(len(found) * 0.99))])
            for found in samples]


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
    parser.add_argument("--spatial-order", action="store_true")
    parser.add_argument("--keep", metavar="FOLDER",
                        help="seed into FOLDER and keep it; a later run with the same FOLDER "
                             "times the views again without seeding")
    parser.add_argument("--rounds", type=int, default=1,
                        help="ask every view this many times (the variants interleaved)")
    parser.add_argument("--views-only", action="store_true", help="skip the exports")
    parser.add_argument("--also", metavar="FOLDER",
                        help="a second kept database (say, seeded with --spatial-order) whose "
                             "views are timed in the same run, interleaved, on the same boxes")
    parser.add_argument("--export-child", nargs=2, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.export_child:
        export_child(*args.export_child)
        return
    rng = np.random.default_rng(11)
    with contextlib.ExitStack() as stack:
        folder = (Path(args.keep) if args.keep
                  else Path(stack.enter_context(tempfile.TemporaryDirectory())))
        folder.mkdir(parents=True, exist_ok=True)
        seeded = (folder / "bench.sqlite3").exists()
        app = make_app(folder)
        add_previous_route(app)
        add_rows_route(app)
        with app.app_context():
            db = get_db()
            upgrade(db)
            start = time.perf_counter()
            total = (db.execute("SELECT count(*) FROM reports WHERE source = 'bench'").fetchone()[0]
                     if seeded else seed(db, args.reports, rng, args.spatial_order))
            print(f"{'reused' if seeded else 'seeded'} {total:,} reports in "
                  f"{time.perf_counter() - start:.0f} s "
                  f"({'ids in Z-order of position, ' if args.spatial_order else ''}"
                  "R*Tree, cell counts and map data version kept by triggers)")
            boxes = neighbourhood_boxes(db, args.runs, rng, total)
            counts = [public.rows.count_reports(db, public.ReportQuery(bbox=b)) for b in boxes]
            city = area_rows.coverage_bounds(db)
        client = app.test_client()
        also = make_app(Path(args.also)) if args.also else None
        if also:
            add_rows_route(also)
            with also.app_context():
                upgrade(get_db())

        def http(path, tested=client):
            def get(bbox):
                response = tested.get(f"{path}?bbox={bbox_arg(bbox)}")
                assert response.status_code == 200
                return response.data
            return get

        def revalidated(bbox):
            url = f"/api/reports.geojson?bbox={bbox_arg(bbox)}"
            etag = client.get(url).headers["ETag"]
            start = time.perf_counter()
            response = client.get(url, headers={"If-None-Match": etag})
            assert response.status_code == 304
            return (time.perf_counter() - start) * 1000

        print(f"neighbourhood views: {len(boxes)} boxes, reports per box median "
              f"{statistics.median(counts):.0f} (min {min(counts)}, max {max(counts)})")
        for label, cases in (("neighbourhood", boxes), ("whole-city", [city] * 30)):
            now, rows, before = (http(path) for path in (
                "/api/reports.geojson", "/bench/rows.geojson", "/bench/previous.geojson"))
            assert all(now(case) == rows(case) for case in cases[:10])
            variants = [now, rows, before]
            if also:
                variants += [http(path, also.test_client())
                             for path in ("/api/reports.geojson", "/bench/rows.geojson")]
            (n50, n99), (r50, r99), (b50, b99), *other = timed(variants, cases * args.rounds)
            print(f"{label} http p50 {n50:.1f} ms")
            print(f"before-m023 {label} http p50 {r50:.1f} ms")
            print(f"previous {label} http p50 {b50:.1f} ms")
            print(f"{label:13}  p99 {n99:.1f} ms (before m023 {r99:.1f} ms, previous "
                  f"{b99:.1f} ms); p50 {r50 / n50:.2f}x faster than before m023, "
                  f"{b50 / n50:.1f}x faster than the previous implementation; "
                  f"load average {Path('/proc/loadavg').read_text().split()[0]}")
            for name, (p50, p99) in zip(("", "before-m023 "), other, strict=False):
                print(f"{args.also}: {name}{label} p50 {p50:.1f} ms, p99 {p99:.1f} ms")
            revalidations = sorted(revalidated(case) for case in cases[:30])
            print(f"{label:13}  asked again with its ETag (304): p50 "
                  f"{statistics.median(revalidations):.2f} ms")
        for kind in () if args.views_only else ("csv", "geojson"):
            peak, seconds, size = subprocess.run(
                [sys.executable, __file__, "--export-child", str(folder), kind],
                check=True, capture_output=True, text=True).stdout.split()
            print(f"export {kind:7}: {size} MB streamed in {seconds} s, "
                  f"peak extra memory {peak} MB")


if __name__ == "__main__":
    main()
