"""The map's answer written by the database equals the answer built row by row in Python.

The map API's GeoJSON is produced as text by SQLite (``json_object``, ``group_concat``); the
exports still shape each row in Python (``report_feature``). Both must say the same thing:
this compares them, parsed, over boxes, filters, languages, points and clusters, with hidden
reports and hidden photos in the data. Clusters are checked against counts and centroids
computed here from the public reports, grouped by the same grid.
"""

import random
from collections import defaultdict
from dataclasses import replace
from pathlib import Path
from urllib.parse import parse_qsl

import pytest
from werkzeug.datastructures import MultiDict

from app.reporting import public
from app.statuses import STATUSES
from app.storage import catalog
from app.storage import public as rows
from app.storage import reports as report_rows
from app.web.db import get_db
from app.web.i18n import current_language
from app.web.links import Links
from migrations import m023_map_features
from tests.factories import jpeg_bytes
from tests.test_open_data import add, geojson

BOXES = ["-180,-90,180,90", "0,0,1,1", "0.2,0.1,1.7,0.6", "1.25,0.25,1.26,0.26"]
FILTERS = ["", "&status=new,fixed", "&category=streetlight", "&service=roads",
           "&since=2022-01-01", "&status=acknowledged&service=lights&category=pothole"]
FRENCH = {("category", "pothole"): "Nid-de-poule", ("service", "lights"): "Éclairage public"}


@pytest.fixture
def city(app, client):
    """Web reports (photos, names shown or not, one hidden, one hidden photo, one public
    description) and 400 bulk reports with random places, statuses, categories and dates."""
    photo = [("hole.jpg", jpeg_bytes())]
    shown = add(client, show_name="yes", photos=photo)
    add(client, lon="1.5", category="streetlight", photos=photo)
    hidden = add(client, lon="0.25", lat="0.75")
    hidden_photo = add(client, lon="0.3", photos=photo)
    with app.app_context():
        db = get_db()
        db.execute("UPDATE reports SET hidden = 1 WHERE id = ?", [hidden])
        db.execute("UPDATE photos SET hidden = 1 WHERE report_id = ?", [hidden_photo])
        db.execute("UPDATE reports SET public_description = 'Edited for the public' "
                   "WHERE id = ?", [shown])
        for (kind, code), name in FRENCH.items():
            catalog.set_translated_name(db, kind, code, "fr", name)
        report_rows.insert_reports_bulk(db, bulk_reports(db, 400))
    return app


def bulk_reports(db, count):
    chance = random.Random(23)
    categories = {c["code"]: c["id"] for c in catalog.all_categories(db)}
    areas = {row["code"]: row for row in db.query(
        "SELECT s.code, a.id AS area_id, a.service_id, a.version_id FROM service_areas a "
        "JOIN services s ON s.id = a.service_id")}
    for number in range(count):
        lon, lat = chance.uniform(0, 2), chance.uniform(0, 1)
        category = "pothole" if lon < 1 else chance.choice(["pothole", "streetlight"])
        area = areas["roads" if lon < 1 else "lights"]
        stamp = f"{chance.randint(2019, 2025)}-0{chance.randint(1, 9)}-1{number % 10}T08:00:00Z"
        yield {"category_id": categories[category], "service_id": area["service_id"],
               "area_id": area["area_id"], "boundary_version_id": area["version_id"],
               "lon": lon, "lat": lat, "description": f"Bulk report {number}",
               "status": chance.choice(list(STATUSES)), "source": "test",
               "hidden": number % 37 == 0, "created_at": stamp, "updated_at": stamp}


def language(client, locale):
    client.set_cookie("lang", locale)


def expected_points(app, arguments, locale):
    """The answer as the Python shaping of the exports builds it, names translated."""
    with app.test_request_context(f"/api/reports.geojson?{arguments}",
                                  headers={"Cookie": f"lang={locale}"}):
        db = get_db()
        query = public.parse_report_query(_args(arguments), db, require_bbox=True)
        assert current_language() == locale
        found = rows.reports_page(db, query, 0, app.config["MAP_POINT_LIMIT"])
        features = [public.report_feature(row, Links()) for row in found]
        names = catalog.translated_names(db, locale)
        for feature in features:
            properties = feature["properties"]
            for kind in ("category", "service"):
                properties[f"{kind}_name"] = names.get((kind, properties[kind]),
                                                      properties[f"{kind}_name"])
        return features


def expected_clusters(app, arguments, size, from_cells):
    """Counts and centroids of the matching public reports grouped on a ``size`` grid. The
    pre-aggregated cells are whole: those the box touches count every report they hold."""
    with app.test_request_context():
        db = get_db()
        query = public.parse_report_query(_args(arguments), db, require_bbox=True)
        min_lon, min_lat, max_lon, max_lat = query.bbox
        if from_cells:
            query = replace(query, bbox=None)
        cells = defaultdict(list)
        for row in rows.iter_reports(db, query):
            # the database's arithmetic: a quotient, then its integer part (a // would differ
            # for a report on a cell's edge, e.g. at lon 1.5 with a grid of 1.5 / 13 degrees)
            cells[int((row["lon"] + 180) / size), int((row["lat"] + 90) / size)].append(row)
    if from_cells:
        cells = {(x, y): found for (x, y), found in cells.items()
                 if (min_lon + 180) // size <= x <= (max_lon + 180) // size
                 and (min_lat + 90) // size <= y <= (max_lat + 90) // size}
    return sorted((len(found), round(sum(r["lon"] for r in found) / len(found), 9),
                   round(sum(r["lat"] for r in found) / len(found), 9))
                  for found in cells.values())


def _args(arguments):
    return MultiDict(parse_qsl(arguments))


def rounded(features):
    for feature in features:
        lon, lat = feature["geometry"]["coordinates"]
        feature["geometry"]["coordinates"] = [round(lon, 9), round(lat, 9)]
    return features


def cluster_summary(collection):
    return sorted((f["properties"]["count"], round(f["geometry"]["coordinates"][0], 9),
                   round(f["geometry"]["coordinates"][1], 9)) for f in collection["features"])


@pytest.mark.parametrize("locale", ["en", "fr"])
def test_points_equal_the_python_answer(city, client, locale):
    city.config["MAP_POINT_LIMIT"] = 10_000
    language(client, locale)
    for box in BOXES:
        for filters in FILTERS:
            arguments = f"bbox={box}{filters}"
            answer = geojson(client, arguments)
            assert answer["clustered"] is False and answer["type"] == "FeatureCollection"
            expected = expected_points(city, arguments, locale)
            assert rounded(answer["features"]) == rounded(expected), arguments


def test_points_cover_every_case_the_data_holds(city, client):
    """The comparison above is not vacuous: names, photos, French names and hidden rows."""
    city.config["MAP_POINT_LIMIT"] = 10_000
    language(client, "fr")
    features = geojson(client, f"bbox={BOXES[0]}")["features"]
    properties = [f["properties"] for f in features]
    assert len(features) == 404 - 1 - len(range(0, 400, 37))
    assert "Bulk report 0" not in {p["description"] for p in properties}
    assert {"Nid-de-poule", "Éclairage public"} <= {n for p in properties
                                                    for n in (p["category_name"],
                                                              p["service_name"])}
    assert "Nouveau" in {p["status_name"] for p in properties}
    assert sum(p["thumbnail"] is not None for p in properties) == 2
    assert "Ada Resident" in {p["reporter_name"] for p in properties}
    assert "Edited for the public" in {p["description"] for p in properties}


@pytest.mark.parametrize("cells", [None, 6, 13, 64])
def test_clusters_equal_the_public_reports_grouped(city, client, cells):
    """Small limit: the views cluster, from the cells (no dates) or from the rows, about
    ``cells`` across (the map's own number; without it, CELLS_ACROSS)."""
    city.config["MAP_POINT_LIMIT"] = 3
    with city.app_context():
        levels = rows.cell_levels(get_db())
    across = cells or public.CELLS_ACROSS
    grids = set()
    for box in BOXES[:3]:
        for filters in FILTERS:
            arguments = f"bbox={box}{filters}" + (f"&cells={cells}" if cells else "")
            answer = geojson(client, arguments)
            if not answer["clustered"]:
                assert len(answer["features"]) <= 3, arguments
                continue
            bbox = tuple(map(float, box.split(",")))
            size, from_cells = cluster_grid(levels, bbox, "since" in filters, across)
            grids.add(from_cells)
            expected = expected_clusters(city, arguments, size, from_cells)
            assert cluster_summary(answer) == expected, arguments
    assert grids == {True, False}


def cluster_grid(levels, bbox, has_dates, across=public.CELLS_ACROSS):
    """The grid the answer must use: the finest cell level that fits (True: from the cells),
    else the rows' own grid (False)."""
    min_lon, min_lat, max_lon, max_lat = bbox
    if not has_dates:
        for _, size in reversed(levels):
            wide, high = (max_lon - min_lon) / size + 1, (max_lat - min_lat) / size + 1
            if wide * high <= (2 * across) ** 2:
                if max(wide, high) >= max(across / 4, 4):
                    return size, True
                break
    return max(max_lon - min_lon, max_lat - min_lat, 1e-9) / across, False


def test_fewer_cells_across_read_the_pre_aggregated_cells_where_the_default_reads_rows(
        city, client):
    """A phone's map asks for fewer clusters across; a view the default draws from the rows,
    in cells smaller than a marker, is then drawn from the cells kept on every write."""
    city.config["MAP_POINT_LIMIT"] = 1
    box = "0.2,0.2,0.35,0.35"
    with city.app_context():
        db = get_db()
        query = public.parse_report_query(_args(f"bbox={box}"), db, require_bbox=True)
        assert public.cell_level(db, query) is None
        level = public.cell_level(db, query, 8)
    assert level is not None
    default, fewer = geojson(client, f"bbox={box}"), geojson(client, f"bbox={box}&cells=8")
    assert default["clustered"] and fewer["clustered"]
    assert len(fewer["features"]) < len(default["features"])
    assert cluster_summary(fewer) == expected_clusters(city, f"bbox={box}", level[1], True)
    assert sum(f["properties"]["count"] for f in fewer["features"]) == sum(
        f["properties"]["count"] for f in default["features"])


def test_a_view_a_few_cells_wide_is_never_drawn_from_them(city, client):
    """However few clusters the map asks for (a map 60 px wide asks for 2), a view
    narrower than four cells of the finest level that fits is grouped from its rows: the
    cells it touches would count, and place clusters at, reports far outside it."""
    across = 2
    city.config["MAP_POINT_LIMIT"] = 1
    box = (0.2, 0.2, 0.5, 0.5)  # 1.9 cells of 0.35 degrees across; 0.088's are too many
    bbox = ",".join(map(str, box))
    with city.app_context():
        db = get_db()
        query = public.parse_report_query(_args(f"bbox={bbox}"), db, require_bbox=True)
        assert public.cell_level(db, query, across) is None
    answer = geojson(client, f"bbox={bbox}&cells={across}")
    assert answer["clustered"]
    for feature in answer["features"]:
        lon, lat = feature["geometry"]["coordinates"]
        assert box[0] <= lon <= box[2] and box[1] <= lat <= box[3]


def test_an_empty_view_is_an_empty_collection(city, client):
    answer = geojson(client, "bbox=10,10,11,11")
    assert answer == {"type": "FeatureCollection", "clustered": False, "features": []}


def test_a_view_seen_before_is_a_304_until_the_map_data_changes(city, client):
    first = client.get(f"/api/reports.geojson?bbox={BOXES[1]}")
    etag = first.headers["ETag"]
    assert first.headers["Cache-Control"] == "no-cache"
    again = client.get(f"/api/reports.geojson?bbox={BOXES[1]}", headers={"If-None-Match": etag})
    assert again.status_code == 304 and again.data == b""
    language(client, "fr")
    french = client.get(f"/api/reports.geojson?bbox={BOXES[1]}", headers={"If-None-Match": etag})
    assert french.status_code == 200 and french.headers["ETag"] != etag
    language(client, "en")
    add(client, lon="0.9", lat="0.9")
    changed = client.get(f"/api/reports.geojson?bbox={BOXES[1]}", headers={"If-None-Match": etag})
    assert changed.status_code == 200 and changed.headers["ETag"] != etag


@pytest.mark.parametrize("change", [
    "UPDATE reports SET supports = supports + 1 WHERE id = (SELECT min(id) FROM reports)",
    "UPDATE photos SET hidden = 1",
    "UPDATE categories SET name = 'Hole in the road' WHERE code = 'pothole'",
    "UPDATE services SET name = 'Roads' WHERE code = 'roads'",
    "DELETE FROM name_translations",
])
def test_every_write_that_reaches_a_feature_changes_the_etag(city, client, change):
    etag = client.get(f"/api/reports.geojson?bbox={BOXES[0]}").headers["ETag"]
    with city.app_context():
        get_db().execute(change)
    response = client.get(f"/api/reports.geojson?bbox={BOXES[0]}",
                          headers={"If-None-Match": etag})
    assert response.status_code == 200 and response.headers["ETag"] != etag


@pytest.mark.parametrize("limit", [3, 60, 180, 389, 390])
def test_clustered_exactly_when_more_reports_match_than_the_limit(city, client, limit):
    """The quick counts (R*Tree superset, whole cells subset) settle the same question as
    counting the public matches themselves, hidden reports and filters included."""
    city.config["MAP_POINT_LIMIT"] = limit
    chance = random.Random(limit)
    boxes = [BOXES[0], BOXES[1]] + [
        ",".join(f"{v:.4f}" for v in (x, y, x + w, y + h))
        for x, y, w, h in ((chance.uniform(-0.5, 1.5), chance.uniform(-0.5, 0.5),
                            chance.uniform(0.05, 2.5), chance.uniform(0.05, 1.5))
                           for _ in range(12))]
    for box in boxes:
        for filters in FILTERS:
            arguments = f"bbox={box}{filters}"
            with city.test_request_context():
                db = get_db()
                matches = rows.count_reports(db, public.parse_report_query(
                    _args(arguments), db, require_bbox=True))
            assert geojson(client, arguments)["clustered"] == (matches > limit), arguments


def test_cell_totals_follow_every_write(city, client):
    """The per-cell totals equal the split counts summed, after moves, hides and deletes."""
    with city.app_context():
        db = get_db()
        db.execute("UPDATE reports SET lon = lon / 2 WHERE id % 5 = 0")
        db.execute("UPDATE reports SET hidden = 1 - hidden WHERE id % 7 = 0")
        db.execute("UPDATE reports SET status = 'fixed' WHERE id % 3 = 0")
        db.execute("DELETE FROM reports WHERE id % 11 = 0 AND id NOT IN "
                   "(SELECT report_id FROM photos UNION SELECT report_id FROM report_events)")
        totals = {(level, x, y): (n, sum_lon) for level, x, y, n, sum_lon in db.execute(
            "SELECT level, cx, cy, n, sum_lon FROM report_cell_totals WHERE n != 0")}
        split = {(level, x, y): (n, sum_lon) for level, x, y, n, sum_lon in db.execute(
            "SELECT level, cx, cy, sum(n), sum(sum_lon) FROM report_cells "
            "GROUP BY level, cx, cy HAVING sum(n) != 0")}
        public_rows = db.execute("SELECT count(*) FROM reports WHERE hidden = 0").fetchone()[0]
    assert totals.keys() == split.keys() and len(totals) > 100
    for cell, (n, sum_lon) in totals.items():
        assert (n, sum_lon) == (split[cell][0], pytest.approx(split[cell][1], abs=1e-6)), cell
    assert sum(n for (level, _, _), (n, _) in totals.items() if level == 0) == public_rows


def test_points_follow_every_write(city, client):
    """map_features (m023) is a copy kept by triggers: after moves, hides, edits, photos
    added, hidden and removed, and deletions, the answer still equals the reports'."""
    city.config["MAP_POINT_LIMIT"] = 10_000
    with city.app_context():
        db = get_db()
        db.execute("UPDATE reports SET lon = lon / 2, lat = lat + 0.01 WHERE id % 5 = 0")
        db.execute("UPDATE reports SET hidden = 1 - hidden WHERE id % 7 = 0")
        db.execute("UPDATE reports SET status = 'fixed', supports = supports + 2, "
                   "show_name = 1, reporter_name = 'Lin', address = 'Main St' WHERE id % 3 = 0")
        db.execute("UPDATE reports SET public_description = 'Said \"so\"\nthen' WHERE id % 4 = 0")
        first = db.execute("SELECT id FROM reports WHERE hidden = 0 AND id NOT IN "
                           "(SELECT report_id FROM photos) ORDER BY id LIMIT 2").fetchall()
        for number, (report_id,) in enumerate(first):
            for position in (0, 1):
                db.execute("INSERT INTO photos (report_id, position, display_name, thumb_name, "
                           "width, height, created_at) VALUES (?, ?, ?, ?, 1, 1, 'now')",
                           [report_id, position, f"d{number}{position}.jpg",
                            f"t{number}{position}.jpg"])
        db.execute("UPDATE photos SET hidden = 1 WHERE thumb_name = 't00.jpg'")
        db.execute("DELETE FROM photos WHERE thumb_name = 't10.jpg'")
        db.execute("DELETE FROM reports WHERE id % 11 = 0 AND id NOT IN "
                   "(SELECT report_id FROM photos UNION SELECT report_id FROM report_events)")
    thumbnails = set()
    for locale in ("en", "fr"):
        language(client, locale)
        for box in BOXES[:2]:
            answer = geojson(client, f"bbox={box}")
            expected = expected_points(city, f"bbox={box}", locale)
            assert rounded(answer["features"]) == rounded(expected), (locale, box)
            thumbnails |= {f["properties"]["thumbnail"] for f in answer["features"]}
    assert {t.rsplit("/", 1)[-1] for t in thumbnails if t} >= {"t01.jpg", "t11.jpg"}


def test_a_report_on_a_cell_edge_is_in_the_views_that_touch_it(city, client):
    """The grid of map_features is only an index: a report exactly on a cell's edge, or a
    view whose edge is exactly on it, still finds what its bbox holds."""
    edge = 1.25 + 1 / rows.MAP_CELLS_PER_DEGREE
    created = add(client, lon=str(edge), lat="0.5")
    for box in (f"{edge},0.5,{edge},0.5", f"1.2,0.4,{edge},0.5", f"{edge},0.5,1.4,0.6"):
        ids = {f["id"] for f in geojson(client, f"bbox={box}")["features"]}
        assert created in ids, box


def copy_statement(db):
    """m023's copy of the reports already stored, in the engine's own words: the last
    statement of the PostgreSQL twin, which copies the same way."""
    if db.dialect == "postgresql":
        twin = Path(m023_map_features.__file__).parent / "postgresql" / "m023_map_features.sql"
        return twin.read_text().split("-- The reports already stored, in key order.\n")[1]
    return m023_map_features.COPY


def test_the_copy_of_reports_already_stored_equals_what_the_triggers_keep(city, client):
    """m023 copies the reports a database already holds (photos, hidden ones, names shown
    or not) into the same rows its triggers write for new ones."""
    with city.app_context():
        db = get_db()
        kept = db.execute("SELECT * FROM map_features ORDER BY id").fetchall()
        db.execute("DELETE FROM map_features")
        db.execute(copy_statement(db))
        assert db.execute("SELECT * FROM map_features ORDER BY id").fetchall() == kept
        assert sum(row[-2] is not None for row in kept) == 2


def test_names_added_after_the_fragments_were_read_are_still_written(city, client,
                                                                     monkeypatch):
    """The view reads its names first and binds them; a status, category or service the
    list lacks (added in between) is written from the catalogue, the same as the rest."""
    city.config["MAP_POINT_LIMIT"] = 10_000
    language(client, "fr")
    expected = geojson(client, f"bbox={BOXES[0]}")
    read = rows._fragments
    monkeypatch.setattr(rows, "_fragments",
                        lambda db, text: {**{kind: [] for kind in "scv"}, "u": read(db, text)["u"]})
    assert geojson(client, f"bbox={BOXES[0]}") == expected


def test_db_optimize_puts_the_rows_in_grid_order_and_changes_no_answer(city, client):
    """On PostgreSQL the bulk reports' map rows lie in arrival order until ``db optimize``
    rewrites them in grid order; SQLite keeps that order by itself and has nothing to do."""
    before = [geojson(client, f"bbox={box}{filters}") for box in BOXES for filters in FILTERS]
    with city.app_context():
        on_postgresql = get_db().dialect == "postgresql"
        if on_postgresql:
            assert stored_order(get_db()) != sorted(stored_order(get_db()))
    result = city.test_cli_runner().invoke(args=["db", "optimize"])
    assert result.exit_code == 0, result.output
    if on_postgresql:
        assert result.output == "The map's rows are in grid order again.\n"
        with city.app_context():
            assert stored_order(get_db()) == sorted(stored_order(get_db()))
    else:
        assert result.output.startswith("Nothing to do")
    after = [geojson(client, f"bbox={box}{filters}") for box in BOXES for filters in FILTERS]
    assert after == before


def stored_order(db):
    """map_features' keys in the order PostgreSQL stores the rows."""
    return [tuple(row) for row in db.execute("SELECT cy, cx, id FROM map_features ORDER BY ctid")]
