"""Already reported nearby? and "me too": metric distance, one support per person."""

import pytest
import shapely

from app.db import get_db
from tests.factories import make_layer
from tests.test_report_flow import post


def add(client, **fields):
    response = post(client, **fields)
    assert response.status_code == 303, response.get_data(as_text=True)
    return int(response.headers["Location"].rsplit("/", 1)[1])


def nearby(client, lon, lat, category="pothole"):
    response = client.get(f"/api/reports/nearby?lon={lon}&lat={lat}&category={category}")
    assert response.status_code == 200, response.get_data(as_text=True)
    return response.get_json()["reports"]


@pytest.fixture
def north(app):
    """A square around latitude 60, where a degree of longitude is about 55.7 km."""
    with app.app_context():
        make_layer(get_db(), "north", [{"service": "north", "categories": ["pothole"],
                                         "geometry": shapely.box(10, 59.5, 11, 60.5)}])


@pytest.mark.parametrize(("lon", "lat", "east_in", "east_out"), [
    (0.5, 0.5, 0.0004, 0.00046),    # equator: 44.5 m in, 51.2 m out
    (10.5, 60.0, 0.0008, 0.00095),  # latitude 60: 44.5 m in, 52.9 m out
])
def test_nearby_uses_metres_not_degrees(client, north, lon, lat, east_in, east_out):
    report_id = add(client, lon=str(lon), lat=str(lat))
    (found,) = nearby(client, lon + east_in, lat)
    assert found["id"] == report_id and 43 <= found["distance_m"] <= 46
    assert nearby(client, lon + east_out, lat) == []
    assert len(nearby(client, lon, lat + 0.0004)) == 1  # 44.5 m north, at any latitude


def test_nearby_only_open_public_reports_of_the_category(app, client):
    open_one = add(client)
    fixed = add(client)
    hidden = add(client)
    add(client, lon="1.0", category="pothole")
    with app.app_context():
        from app import workflow

        workflow.change_status(get_db(), fixed, "staff", "fixed")
        workflow.set_hidden(get_db(), hidden, "staff", True)
    assert [r["id"] for r in nearby(client, 0.5, 0.5)] == [open_one]
    assert nearby(client, 0.5, 0.5, category="graffiti") == []


@pytest.mark.parametrize(("query", "message"), [
    ("lon=x&lat=0.5&category=pothole", "not a number"),
    ("lon=0.5&lat=0.5&category=unicorns", "not a category we know"),
    ("lon=0.5&category=pothole", "latitude is missing"),
])
def test_nearby_errors(client, query, message):
    response = client.get(f"/api/reports/nearby?{query}")
    assert response.status_code == 400 and message in response.get_json()["error"]["message"]


def test_me_too_counts_once_per_browser_and_per_email(app, client):
    report_id = add(client)
    first = client.post(f"/api/reports/{report_id}/support", data={"email": "a@example.org"})
    assert first.get_json()["supports"] == 1
    again = client.post(f"/api/reports/{report_id}/support")
    assert again.status_code == 200 and again.get_json()["supports"] == 1
    other_browser = app.test_client()
    same_email = other_browser.post(f"/api/reports/{report_id}/support",
                                    data={"email": "A@example.org"})
    assert same_email.status_code == 200 and same_email.get_json()["supports"] == 1
    third = app.test_client().post(f"/api/reports/{report_id}/support")
    assert third.get_json()["supports"] == 2
    assert "2 people said" in client.get(f"/reports/{report_id}").get_data(as_text=True)
    feature = client.get("/api/reports.geojson?bbox=0,0,1,1").get_json()["features"][0]
    assert feature["properties"]["supports"] == 2
    assert "2 me too" in client.get("/reports").get_data(as_text=True)
    page = client.get(f"/reports/{report_id}").get_data(as_text=True)
    assert "a@example.org" not in page


def test_me_too_form_on_the_report_page(client):
    report_id = add(client)
    response = client.post(f"/reports/{report_id}/support", follow_redirects=True)
    html = response.get_data(as_text=True)
    assert "your \u201cme too\u201d is counted" in html and "1 person said" in html
    again = client.post(f"/reports/{report_id}/support", follow_redirects=True)
    html = again.get_data(as_text=True)
    assert "your \u201cme too\u201d is counted" in html and "1 person said" in html


def test_closed_or_hidden_reports_cannot_be_supported(app, client, snapshot):
    fixed, hidden = add(client), add(client)
    with app.app_context():
        from app import workflow

        workflow.change_status(get_db(), fixed, "staff", "fixed")
        workflow.set_hidden(get_db(), hidden, "staff", True)
    before = snapshot()
    assert client.post(f"/api/reports/{fixed}/support").status_code == 400
    assert client.post(f"/api/reports/{hidden}/support").status_code == 404
    assert client.post("/api/reports/999/support").status_code == 404
    assert client.post(f"/api/reports/{fixed}/support",
                       data={"email": "not-an-email"}).status_code == 400
    assert snapshot() == before


def test_supports_are_rate_limited(app, client):
    app.config.update(RATE_LIMITS_ON=True, SUPPORT_RATE_LIMIT="2 per minute")
    ids = [add(client) for _ in range(3)]
    statuses = [app.test_client().post(f"/api/reports/{i}/support").status_code for i in ids]
    assert statuses == [200, 200, 429]


def test_supports_feed_the_dispatch_sort(app, client, auth):
    add(client, description="Quiet one")
    popular = add(client, description="Popular one")
    for _ in range(3):
        app.test_client().post(f"/api/reports/{popular}/support")
    auth.login("roads@city.example")
    page = client.get("/dispatch?order=supported").get_data(as_text=True)
    assert page.index("Popular one") < page.index("Quiet one")
    assert "3 me too" in page
