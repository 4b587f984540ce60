"""Already reported nearby? and "me too": metric distance, one support per browser, or per
mailbox once its owner confirms from the e-mail."""

import re

import pytest
import shapely

from app.web.db import get_db
from tests.factories import make_layer
from tests.test_outbox import mail_app, new_report, send
from tests.test_report_flow import post
from tests.test_subscriptions import form_token, link_in


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
        from app.dispatch import workflow

        workflow.change_status(get_db(), fixed, "staff", workflow.StatusChange("fixed"))
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


def test_me_too_without_an_email_counts_once_per_browser(app, client):
    report_id = add(client)
    first = client.post(f"/api/reports/{report_id}/support")
    assert first.get_json() == {"id": report_id, "supports": 1, "confirm_by_email": False}
    again = client.post(f"/api/reports/{report_id}/support")
    assert again.status_code == 200 and again.get_json()["supports"] == 1
    other_browser = app.test_client().post(f"/api/reports/{report_id}/support")
    assert other_browser.get_json()["supports"] == 2
    assert "2 people said" in client.get(f"/reports/{report_id}").get_data(as_text=True)
    feature = client.get("/api/reports.geojson?bbox=0,0,1,1").get_json()["features"][0]
    assert feature["properties"]["supports"] == 2
    assert "2 me too" in client.get("/reports").get_data(as_text=True)


def support_links(smtp, address):
    return [link_in(m, r"/supports/[\w-]+/confirm") for m in smtp.to(address)
            if m["Subject"] == "Confirm your \u201cme too\u201d"]


def press_confirm(app, path):
    client = app.test_client()
    return client.post(path, data={"csrf_token": form_token(client, path)})


def test_me_too_with_an_email_counts_once_its_owner_confirms(tmp_path, smtp):
    mail = mail_app(tmp_path, smtp.port)
    report_id = new_report(mail, email=None)
    answer = mail.test_client().post(f"/api/reports/{report_id}/support",
                                     data={"email": "a@example.org"})
    assert answer.get_json() == {"id": report_id, "supports": 0, "confirm_by_email": True}
    send(mail)
    [path] = support_links(smtp, "a@example.org")

    page = mail.test_client().get(path)  # a mail scanner opening the link
    assert page.status_code == 200 and "Confirm your \u201cme too\u201d" in page.get_data(
        as_text=True)
    assert "0 people said" in mail.test_client().get(f"/reports/{report_id}").get_data(
        as_text=True)
    for _ in range(2):
        done = press_confirm(mail, path)
        assert "Your \u201cme too\u201d is counted." in done.get_data(as_text=True)
    assert "1 person said" in mail.test_client().get(f"/reports/{report_id}").get_data(
        as_text=True)


def test_me_too_form_on_the_report_page(client):
    report_id = add(client)
    response = client.post(f"/reports/{report_id}/support", follow_redirects=True)
    html = response.get_data(as_text=True)
    assert "your \u201cme too\u201d is counted" in html and "1 person said" in html
    again = client.post(f"/reports/{report_id}/support", follow_redirects=True)
    html = again.get_data(as_text=True)
    assert "your \u201cme too\u201d is counted" in html and "1 person said" in html
    with_email = client.post(f"/reports/{report_id}/support", data={"email": "a@example.org"},
                             follow_redirects=True)
    html = with_email.get_data(as_text=True)
    assert "Open the link in it to confirm your \u201cme too\u201d" in html
    assert "1 person said" in html


def test_a_bad_confirmation_link_is_a_404(client):
    assert client.get("/supports/nope/confirm").status_code == 404
    assert client.post("/supports/nope/confirm").status_code == 404


def test_closed_or_hidden_reports_cannot_be_supported(app, client, snapshot):
    fixed, hidden = add(client), add(client)
    with app.app_context():
        from app.dispatch import workflow

        workflow.change_status(get_db(), fixed, "staff", workflow.StatusChange("fixed"))
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
    assert re.search(rf'href="/dispatch/reports/{popular}">.*?data-label="Me too">3<', page, re.S)


def test_a_french_resident_reads_the_page_and_the_e_mail_in_french(tmp_path, smtp):
    mail = mail_app(tmp_path, smtp.port)
    report_id = new_report(mail, email=None)
    french = {"Accept-Language": "fr-FR,fr;q=0.9"}
    page = mail.test_client().post(f"/reports/{report_id}/support", headers=french,
                                   data={"email": "a@example.org"}, follow_redirects=True)
    assert "confirmer votre \u00ab moi aussi \u00bb" in page.get_data(as_text=True)
    send(mail)
    [message] = smtp.to("a@example.org")
    assert message["Subject"] == "Confirmez votre \u00ab moi aussi \u00bb"
    assert "Pour qu\u2019il compte" in message.get_content()
