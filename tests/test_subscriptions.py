"""Alerts by e-mail with double opt-in and one-click unsubscribe, end to end through the
outbox and a real SMTP server; area alerts; the same alerts as Atom feeds."""

import re

import pytest

from app.web.db import get_db
from tests.test_outbox import mail_app, new_report, send, staff_client

FAN = "fan@example.org"


@pytest.fixture
def mail(tmp_path, smtp):
    return mail_app(tmp_path, smtp.port)


def form_token(client, url):
    page = client.get(url).get_data(as_text=True)
    return re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)


def ask(app, url, page, **fields):
    """Submit an alert form as a browser does: read the page's CSRF token, then post."""
    client = app.test_client()
    return client.post(url, data={"csrf_token": form_token(client, page), **fields})


def link_in(message, pattern):
    return re.search(pattern, message.get_content()).group(0)


def confirm_from_email(app, smtp):
    """Open the confirmation e-mail's link and press the button, as its owner would."""
    [confirmation] = [m for m in smtp.to(FAN) if m["Subject"] == "Confirm your alert"][-1:]
    url = link_in(confirmation, r"https://fix\.city\.example/alerts/[\w-]+/confirm")
    path = url.removeprefix("https://fix.city.example")
    client = app.test_client()
    page = client.get(path)
    assert page.status_code == 200 and "Confirm your alert" in page.get_data(as_text=True)
    done = client.post(path, data={"csrf_token": form_token(client, path)})
    assert "Your alert is on" in done.get_data(as_text=True)


def counts(app):
    with app.app_context():
        db = get_db()
        return {t: db.execute(f"SELECT count(*) FROM {t}").fetchone()[0]
                for t in ("subscriptions", "outbox")}


def test_follow_a_report_double_opt_in_then_one_click_unsubscribe(mail, smtp):
    report_id = new_report(mail, email=None)
    answer = ask(mail, f"/reports/{report_id}/subscribe", f"/reports/{report_id}", email=FAN)
    assert answer.status_code == 303
    send(mail)
    assert [m["Subject"] for m in smtp.to(FAN)] == ["Confirm your alert"]

    staff = staff_client(mail)
    token = form_token(staff, f"/dispatch/reports/{report_id}")
    staff.post(f"/dispatch/reports/{report_id}/status", data={
        "csrf_token": token, "status": "acknowledged", "public_note": "On the list."})
    send(mail)
    assert len(smtp.to(FAN)) == 1, "nothing but the confirmation before confirming"

    confirm_from_email(mail, smtp)
    staff.post(f"/dispatch/reports/{report_id}/status", data={
        "csrf_token": token, "status": "in_progress", "public_note": "Crew on site."})
    send(mail)
    alert = smtp.to(FAN)[-1]
    assert alert["Subject"] == f"Report {report_id} (Pothole): In progress"
    assert "Crew on site." in alert.get_content()
    assert alert["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    unsubscribe = alert["List-Unsubscribe"].strip("<>").removeprefix("https://fix.city.example")

    mail.config["WTF_CSRF_ENABLED"] = True  # one click works without a form token
    one_click = mail.test_client().post(unsubscribe, data="List-Unsubscribe=One-Click",
                                        content_type="application/x-www-form-urlencoded")
    assert one_click.status_code == 200
    assert "You are unsubscribed" in one_click.get_data(as_text=True)
    staff.post(f"/dispatch/reports/{report_id}/status", data={
        "csrf_token": token, "status": "fixed", "public_note": "Done."})
    send(mail)
    assert len(smtp.to(FAN)) == 2


def test_asking_twice_reuses_the_subscription_and_a_confirmed_one_gets_no_more_mail(mail, smtp):
    report_id = new_report(mail, email=None)
    for _ in range(2):
        ask(mail, f"/reports/{report_id}/subscribe", f"/reports/{report_id}", email=FAN)
    send(mail)
    assert counts(mail)["subscriptions"] == 1 and len(smtp.to(FAN)) == 1
    confirm_from_email(mail, smtp)
    ask(mail, f"/reports/{report_id}/subscribe", f"/reports/{report_id}", email=FAN.upper())
    send(mail)
    assert counts(mail)["subscriptions"] == 1 and len(smtp.to(FAN)) == 1


def test_updates_from_the_reporter_reach_followers(mail, smtp):
    report_id = new_report(mail)
    ask(mail, f"/reports/{report_id}/subscribe", f"/reports/{report_id}", email=FAN)
    send(mail)
    confirm_from_email(mail, smtp)
    [private] = smtp.to("ada@example.org")
    manage = link_in(private, r"https://fix\.city\.example/reports/\d+/manage/[\w-]+")
    manage = manage.removeprefix("https://fix.city.example")
    client = mail.test_client()
    client.post(f"{manage}/update", data={"csrf_token": form_token(client, manage),
                                          "text": "It got deeper after the rain."})
    send(mail)
    alert = smtp.to(FAN)[-1]
    assert "The reporter added an update" in alert.get_content()
    assert "It got deeper after the rain." in alert.get_content()


def test_radius_and_service_area_alerts_for_new_reports(mail, smtp, db_of):
    ask(mail, "/alerts", "/alerts", kind="radius", lon="0.5", lat="0.5", radius="1000",
        email=FAN)
    square_b = db_of(mail, "SELECT id FROM service_areas WHERE name = 'Square B'")
    ask(mail, "/alerts", "/alerts", kind="area", area=str(square_b), email="b@example.org")
    send(mail)
    confirm_from_email(mail, smtp)
    confirm_b(mail, smtp)

    near = new_report(mail, email=None, lon="0.502", lat="0.5")
    new_report(mail, email=None, lon="0.52", lat="0.5")  # about 2.2 km away
    in_b = new_report(mail, email=None, lon="1.5", category="streetlight")
    send(mail)
    alerts = [m for m in smtp.to(FAN) if m["Subject"].startswith("New report")]
    assert [f"number {near}" in m.get_content() for m in alerts] == [True]
    area_alerts = [m for m in smtp.to("b@example.org") if m["Subject"].startswith("New report")]
    assert len(area_alerts) == 1 and f"number {in_b}" in area_alerts[0].get_content()


def confirm_b(app, smtp):
    [message] = smtp.to("b@example.org")
    path = link_in(message, r"/alerts/[\w-]+/confirm")
    client = app.test_client()
    client.post(path, data={"csrf_token": form_token(client, path)})


@pytest.fixture
def db_of():
    def query(app, sql):
        with app.app_context():
            return get_db().execute(sql).fetchone()[0]
    return query


@pytest.mark.parametrize("fields", [
    {"kind": "radius", "lon": "0.5", "lat": "0.5", "radius": "1000", "email": "nope"},
    {"kind": "radius", "lon": "0.5", "lat": "0.5", "radius": "1000", "email": ""},
    {"kind": "radius", "lon": "0.5", "lat": "0.5", "radius": "99999", "email": FAN},
    {"kind": "radius", "lon": "0.5", "lat": "0.5", "radius": "nan", "email": FAN},
    {"kind": "radius", "lon": "200", "lat": "0.5", "radius": "500", "email": FAN},
    {"kind": "area", "area": "999", "email": FAN},
    {"kind": "area", "area": "x'; DROP TABLE reports; --", "email": FAN},
])
def test_bad_alert_requests_are_refused_and_store_nothing(app, client, snapshot, fields):
    before = snapshot()
    response = client.post("/alerts", data=fields)
    assert response.status_code == 400
    assert "error" in response.get_data(as_text=True)
    assert snapshot() == before


def test_following_a_missing_report_is_404(client, snapshot):
    before = snapshot()
    assert client.post("/reports/999/subscribe", data={"email": FAN}).status_code == 404
    assert snapshot() == before


def test_unknown_links_are_404(client):
    for url in ("/alerts/nope/confirm", "/alerts/nope/unsubscribe"):
        assert client.get(url).status_code == 404
        assert client.post(url).status_code == 404


def test_subscriptions_are_rate_limited(tmp_path):
    app = mail_app(tmp_path, 1, RATE_LIMITS_ON=True, SUBSCRIPTION_RATE_LIMIT="2 per hour")
    client = app.test_client()
    fields = {"kind": "radius", "lon": "0.5", "lat": "0.5", "radius": "500", "email": FAN}
    assert [client.post("/alerts", data=fields).status_code for _ in range(3)] == [
        303, 303, 429]


def test_erasing_an_address_removes_its_subscriptions_and_mail(mail, smtp):
    ask(mail, "/alerts", "/alerts", kind="radius", lon="0.5", lat="0.5", radius="500",
        email=FAN)
    result = mail.test_cli_runner().invoke(args=["privacy", "erase", "--email", FAN])
    assert "1 alert subscription(s) and 1 e-mail(s) in the outbox" in result.output
    assert counts(mail) == {"subscriptions": 0, "outbox": 0}


def test_feeds_of_a_report_a_circle_and_an_area(app, client, db_of):
    first = new_report(app, email=None)
    far = new_report(app, email=None, lon="0.52")
    in_b = new_report(app, email=None, lon="1.5", category="streetlight")
    history = client.get(f"/reports/{first}/history.atom")
    assert history.mimetype == "application/atom+xml"
    assert "<title>Reported</title>" in history.get_data(as_text=True)

    circle = client.get("/reports.atom?near=0.5,0.5&radius=1000").get_data(as_text=True)
    assert f"/reports/{first}<" in circle and f"/reports/{far}<" not in circle
    square_b = db_of(app, "SELECT id FROM service_areas WHERE name = 'Square B'")
    area = client.get(f"/reports.atom?area={square_b}").get_data(as_text=True)
    assert f"/reports/{in_b}<" in area and f"/reports/{first}<" not in area
    assert client.get("/reports.atom?near=0.5,0.5&radius=1e9").status_code == 400
    assert client.get("/reports.atom?area=999").status_code == 404
    assert client.get("/reports/999/history.atom").status_code == 404


def test_the_alerts_page_offers_both_kinds_with_labels(client):
    page = client.get("/alerts?lon=0.5&lat=0.5").get_data(as_text=True)
    for field in ("alert-lat", "alert-lon", "alert-radius", "alert-email", "alert-area",
                  "area-email"):
        assert f'<label for="{field}">' in page
    assert 'value="0.5"' in page and "Square B" in page and 'id="radius-feed"' in page
