"""The public map API, list, feed and exports: filters, clusters, escaping, privacy."""

import csv
import html
import io
import json
import re
import xml.etree.ElementTree as ET

import pytest

from app.storage import dialect
from app.storage import reports as report_rows
from app.web.db import get_db
from tests.test_report_flow import post

XSS = "<img src=x onerror=alert(1)>"


def add(client, **fields):
    response = post(client, **fields)
    assert response.status_code == 303, response.get_data(as_text=True)
    return int(response.headers["Location"].rsplit("/", 1)[1])


def geojson(client, query):
    response = client.get(f"/api/reports.geojson?{query}")
    assert response.status_code == 200, response.get_data(as_text=True)
    assert response.headers["Content-Type"] == "application/geo+json"
    return response.get_json()


@pytest.mark.parametrize(("bbox", "message"), [
    ("1,2,3", "got 3 values"),
    ("1,2,3,4,5", "got 5 values"),
    ("a,0,1,1", "not a number"),
    ("nan,0,1,1", "not a finite number"),
    ("0,0,inf,1", "not a finite number"),
    ("1,0,0,1", "minimum is greater than its maximum"),
    ("0,1,1,0", "minimum is greater than its maximum"),
    ("-200,0,0,1", "outside -180..180"),
])
def test_bad_bbox_is_400_with_a_message(client, bbox, message):
    response = client.get(f"/api/reports.geojson?bbox={bbox}")
    assert response.status_code == 400
    assert message in response.get_json()["error"]["message"]


@pytest.mark.parametrize(("cells", "message"), [
    ("many", "'many' is not a whole number"),
    ("2.5", "'2.5' is not a whole number"),
    ("%2B13", "'+13' is not a whole number"),
    ("1_3", "'1_3' is not a whole number"),
    ("1", "from 2 to 64; got 1"),
    ("65", "from 2 to 64; got 65"),
])
def test_bad_cells_is_400_with_a_message(client, cells, message):
    response = client.get(f"/api/reports.geojson?bbox=0,0,1,1&cells={cells}")
    assert response.status_code == 400
    assert message in response.get_json()["error"]["message"]


@pytest.mark.parametrize(("query", "message"), [
    ("status=lost", "Unknown status: lost"),
    ("category=unicorns", "Unknown category: unicorns"),
    ("service=nobody", "Unknown service: nobody"),
    ("since=yesterday", "is not a date"),
    ("since=2024-05-02&until=2024-05-01", "'since' must be on or before 'until'"),
    ("since=2024-05-02T10:00:00", "needs a time zone offset"),
])
def test_bad_filters_are_400(client, query, message):
    for path in ("/api/reports.geojson", "/api/reports.csv", "/reports", "/reports.atom"):
        response = client.get(f"{path}?{query}")
        assert response.status_code == 400, path
        assert message in html.unescape(response.get_data(as_text=True))


def test_viewport_returns_public_points(client):
    report_id = add(client, name="Secret Name", email="secret@example.org")
    collection = geojson(client, "bbox=0,0,1,1")
    assert collection["type"] == "FeatureCollection" and not collection["clustered"]
    (feature,) = collection["features"]
    assert feature["geometry"] == {"type": "Point", "coordinates": [0.5, 0.5]}
    assert feature["properties"]["url"].endswith(f"/reports/{report_id}")
    text = json.dumps(collection)
    assert "secret@example.org" not in text and "Secret Name" not in text


def test_point_exactly_on_the_viewport_edge_is_included(client):
    """The R*Tree keeps 32-bit bounds; the exact check must not drop edge points."""
    add(client, lon="0.123456789", lat="0.987654321")
    assert len(geojson(client, "bbox=0.123456789,0.5,0.9,0.987654321")["features"]) == 1
    assert geojson(client, "bbox=0.12345679,0.5,0.9,0.99")["features"] == []


def test_filters_combine(client):
    add(client)
    add(client, lon="1.5", category="streetlight")
    add(client, lon="1.5", category="pothole")
    everything = "bbox=-1,-1,3,3"
    assert len(geojson(client, everything)["features"]) == 3
    assert len(geojson(client, everything + "&service=lights")["features"]) == 2
    assert len(geojson(client, everything + "&service=lights&category=pothole")["features"]) == 1
    assert len(geojson(client, everything + "&category=pothole,streetlight")["features"]) == 3
    assert geojson(client, everything + "&status=fixed")["features"] == []
    assert len(geojson(client, everything + "&status=new,fixed")["features"]) == 3
    assert geojson(client, everything + "&until=2000-01-01")["features"] == []
    assert len(geojson(client, everything + "&since=2000-01-01")["features"]) == 3


def test_cluster_switch_over_at_the_limit(app, client):
    app.config["MAP_POINT_LIMIT"] = 5
    for number in range(5):
        add(client, lon=f"0.{number + 1}")
    assert not geojson(client, "bbox=-180,-90,180,90")["clustered"]
    add(client, lon="1.5")
    world = geojson(client, "bbox=-180,-90,180,90")
    assert world["clustered"]
    assert sum(f["properties"]["count"] for f in world["features"]) == 6
    assert all(f["properties"]["cluster"] for f in world["features"])
    from_rows = geojson(client, "bbox=-180,-90,180,90&since=2000-01-01")
    assert from_rows["clustered"]
    assert sum(f["properties"]["count"] for f in from_rows["features"]) == 6
    filtered = geojson(client, "bbox=-180,-90,180,90&service=lights")
    assert not filtered["clustered"] and len(filtered["features"]) == 1


def test_world_bbox_by_default_and_clusters_from_pre_aggregated_cells(app, client):
    app.config["MAP_POINT_LIMIT"] = 1
    add(client, lon="0.25")
    add(client, lon="0.75")
    add(client, lon="1.5", category="streetlight")
    world = geojson(client, "")
    assert world["clustered"]
    assert sum(f["properties"]["count"] for f in world["features"]) == 3
    lights = geojson(client, "category=streetlight")
    assert not lights["clustered"]


def test_cell_counts_follow_inserts_updates_and_deletes(app, client):
    ids = [add(client), add(client, lon="1.5", category="streetlight")]
    with app.app_context():
        db = get_db()
        db.execute("UPDATE reports SET status = 'fixed', lon = 0.9 WHERE id = ?", [ids[0]])
        db.execute("DELETE FROM report_events WHERE report_id = ?", [ids[1]])
        db.execute("DELETE FROM photos WHERE report_id = ?", [ids[1]])
        db.execute("DELETE FROM reports WHERE id = ?", [ids[1]])
        stored = {tuple(r) for r in db.execute(
            "SELECT level, cx, cy, status, category_id, service_id, n FROM report_cells "
            "WHERE n != 0")}
        expected = {tuple(r) for r in db.execute(f"""
            SELECT l.level, {dialect.integer_part(db, "(r.lon + 180) / l.size")},
                   {dialect.integer_part(db, "(r.lat + 90) / l.size")}, r.status,
                   r.category_id, r.service_id, count(*)
            FROM reports r, report_cell_levels l GROUP BY 1, 2, 3, 4, 5, 6""")}
        assert stored == expected and len(expected) == 6


def test_csv_export_is_public_and_defused(client):
    add(client, description="=HYPERLINK(\"http://evil\")", name="Hidden", email="h@example.org")
    add(client, description="@SUM(A1)", name="Shown Person", show_name="yes")
    response = client.get("/api/reports.csv")
    assert response.headers["Content-Disposition"] == 'attachment; filename="reports.csv"'
    text = response.get_data(as_text=True)
    assert "h@example.org" not in text and "Hidden" not in text
    rows = list(csv.DictReader(io.StringIO(text)))
    assert [r["description"] for r in rows] == ["'=HYPERLINK(\"http://evil\")", "'@SUM(A1)"]
    assert rows[1]["reporter_name"] == "Shown Person"
    assert rows[0]["lon"] == "0.5"


def test_geojson_download_streams_every_match(app, client):
    app.config["MAP_POINT_LIMIT"] = 1
    for _ in range(3):
        add(client)
    response = client.get("/api/reports.geojson?download=1&category=pothole", buffered=False)
    assert response.is_streamed
    collection = json.loads(response.get_data(as_text=True))
    response.close()
    assert len(collection["features"]) == 3 and "clustered" not in collection


def test_list_paginates_with_filters(app, client):
    for _ in range(52):
        add(client)
    add(client, lon="1.5", category="streetlight")
    html = client.get("/reports?category=pothole").get_data(as_text=True)
    assert "52 reports" in html and "Page 1 of 2" in html
    assert 'href="/reports?page=2&amp;category=pothole"' in html
    second = client.get("/reports?category=pothole&page=2").get_data(as_text=True)
    assert second.count('class="excerpt"') == 2


def test_atom_feed_escapes_and_filters(client):
    add(client, description=XSS)
    add(client, lon="1.5", category="streetlight", description="Light out")
    response = client.get("/reports.atom?category=pothole")
    assert response.mimetype == "application/atom+xml"
    body = response.get_data(as_text=True)
    assert XSS not in body and "&lt;img src=x onerror=alert(1)&gt;" in body
    feed = ET.fromstring(body)
    entries = feed.findall("{http://www.w3.org/2005/Atom}entry")
    assert len(entries) == 1
    summary = entries[0].find("{http://www.w3.org/2005/Atom}summary").text
    assert summary.startswith(XSS)


def test_report_page_and_list_escape_resident_text(client):
    report_id = add(client, description=XSS)
    for path in (f"/reports/{report_id}", "/reports"):
        page = client.get(path).get_data(as_text=True)
        assert XSS not in page and "&lt;img src=x onerror=alert(1)&gt;" in page


def test_areas_geojson(client):
    areas = client.get("/api/areas.geojson").get_json()
    assert {f["properties"]["name"] for f in areas["features"]} == {"Square A", "Square B"}


def test_map_page_weight_is_under_500_kb(client):
    """The /map page's own HTML, scripts and styles (tiles excluded)."""
    response = client.get("/map")
    page = response.get_data(as_text=True)
    total = len(response.data)
    for url in re.findall(r'(?:src|href)="(/(?:vendor|static)/[^"]+)"', page):
        asset = client.get(url)
        total += len(asset.data)
        asset.close()
    assert total < 500 * 1024, total


def test_report_events_are_history_not_public_notes(app, client):
    report_id = add(client)
    with app.app_context():
        report_rows.add_event(get_db(), report_id, "status", "staff", from_status="new",
                              to_status="fixed", public_note="Filled today.")
    assert "Filled today." in client.get(f"/reports/{report_id}").get_data(as_text=True)
