"""Two real instances of this application: ours, and a second one started as the city's own
work-order system (its own instance folder, gunicorn on another port). A report made on
ours arrives in the city's queue with its photo links; a dispatcher's change there comes
back to ours, its public page and a follower's e-mail. A city that is down, then failing,
then back loses nothing and gets nothing twice."""

import json
import re
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
import requests

from app.dispatch.accounts import create_staff_user
from app.storage import apikeys, row_counts
from app.web.db import get_db
from tests.factories import jpeg_bytes, make_app
from tests.live import BackgroundServer, Gunicorn, free_port
from tests.test_outbox import mail_app, new_report, outbox_rows, send, staff_page
from tests.test_subscriptions import FAN, ask, confirm_from_email

CITY_KEY = "city-issued-key-for-fix-my-city"
KEY_ENV = "CITY_OPEN311_KEY"
DISPATCHER, PASSWORD = "roads@city.example", "correct horse battery"


def city_app(folder):
    """The city's instance: the same application, its own database, our key, a dispatcher."""
    folder.mkdir()
    app = make_app(folder)
    with app.app_context():
        apikeys.create_key(get_db(), "Fix My City", CITY_KEY)
        create_staff_user(get_db(), DISPATCHER, PASSWORD, "dispatcher", ("roads",))
    return app


def cli(app, *args):
    result = app.test_cli_runner().invoke(args=list(args))
    assert result.exit_code == 0, result.output
    return result.output


def deliver_to(app, city_url):
    cli(app, "services", "set", "roads", "--open311-endpoint", f"{city_url}/open311/v2",
        "--open311-jurisdiction", "city.example", "--open311-key-env", KEY_ENV,
        "--open311-service-code", "pothole=pothole")


def csrf(session, url):
    page = session.get(url, timeout=30).text
    return re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)


def city_dispatcher(city_url):
    """A logged-in browser session of the city's dispatcher."""
    session = requests.Session()
    token = csrf(session, f"{city_url}/login")
    answer = session.post(f"{city_url}/login", timeout=30, data={
        "email": DISPATCHER, "password": PASSWORD, "csrf_token": token})
    assert answer.status_code == 200 and "/login" not in answer.url, answer.text[:300]
    return session


def rows(app, sql, *params):
    with app.app_context():
        return list(get_db().query(sql, params))


@pytest.fixture
def ours(tmp_path, smtp, monkeypatch):
    monkeypatch.setenv(KEY_ENV, CITY_KEY)
    (tmp_path / "ours").mkdir()
    return mail_app(tmp_path / "ours", smtp.port, OUTBOX_RETRY_SECONDS=0)


def test_a_report_goes_to_the_city_and_its_status_comes_back(ours, smtp, tmp_path):
    city = city_app(tmp_path / "city")
    with Gunicorn(city, tmp_path / "city") as server:
        deliver_to(ours, server.url)
        report_id = new_report(ours, email="ada@resident.example",
                               photos=[("hole.jpg", jpeg_bytes())])
        ask(ours, f"/reports/{report_id}/subscribe", f"/reports/{report_id}", email=FAN)
        send(ours)
        confirm_from_email(ours, smtp)

        [sent] = rows(ours, "SELECT remote_id FROM open311_requests WHERE report_id = ?",
                      report_id)
        remote_id = sent["remote_id"]
        [arrived] = rows(city, "SELECT * FROM reports WHERE id = ?", int(remote_id))
        assert arrived["description"] == "Deep hole in the cycle lane"
        assert arrived["reporter_email"] == "ada@resident.example"
        [photo_link] = json.loads(arrived["media_urls"])
        assert photo_link.startswith("https://fix.city.example/photos/")
        served = ours.test_client().get(photo_link.removeprefix("https://fix.city.example"))
        assert served.status_code == 200 and served.mimetype == "image/jpeg"

        dispatcher = city_dispatcher(server.url)
        queue = dispatcher.get(f"{server.url}/dispatch", timeout=30).text
        assert "Deep hole in the cycle lane" in queue
        their_page = dispatcher.get(f"{server.url}/dispatch/reports/{remote_id}", timeout=30)
        assert photo_link in their_page.text
        ours_page = ours.test_client()
        changed = dispatcher.post(
            f"{server.url}/dispatch/reports/{remote_id}/status", timeout=30, data={
                "csrf_token": csrf(dispatcher, f"{server.url}/dispatch/reports/{remote_id}"),
                "status": "in_progress", "public_note": "A crew is booked for Monday."})
        assert changed.status_code == 200, changed.text[:300]

        first = cli(ours, "open311", "fetch-updates")
        assert "roads: 2 update(s) read, 2 new recorded." in first  # created, in progress
        with ours.app_context():
            counts = row_counts(get_db())
        again = cli(ours, "open311", "fetch-updates")
        assert "0 new recorded" in again
        with ours.app_context():
            assert row_counts(get_db()) == counts

    page = ours_page.get(f"/reports/{report_id}").get_data(as_text=True)
    assert "A crew is booked for Monday." in page and "In progress" in page
    send(ours)
    alerts = [m for m in smtp.to(FAN) if "Monday" in m.get_content()]
    assert len(alerts) == 1
    staff = rows(ours, "SELECT actor, to_status FROM report_events WHERE report_id = ? "
                 "AND kind = 'status'", report_id)
    assert [(e["actor"], e["to_status"]) for e in staff] == [("Open311: Roads department",
                                                              "in_progress")]


class FailingCity(BackgroundServer):
    """An HTTP server on ``port`` answering every request with HTTP 500."""

    def __init__(self, port):
        sink = self
        self.calls = 0

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802 (http.server's name)
                self.rfile.read(int(self.headers["Content-Length"]))
                sink.calls += 1
                body = b'[{"code": 500, "description": "Database down"}]'
                self.send_response(500)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args):
                pass

        super().__init__(ThreadingHTTPServer(("127.0.0.1", port), Handler))


def delivery(app):
    [message] = [m for m in outbox_rows(app) if m["channel"] == "open311"]
    return message


def test_a_city_down_then_failing_then_back_loses_nothing_and_gets_nothing_twice(ours, tmp_path):
    port = free_port()
    deliver_to(ours, f"http://127.0.0.1:{port}")
    report_id = new_report(ours)

    send(ours)  # nothing listens: connection refused
    down = delivery(ours)
    assert down["state"] == "pending" and "Connection refused" in down["last_error"]

    with FailingCity(port) as failing:
        send(ours)
    failed = delivery(ours)
    assert failing.calls == 1 and failed["state"] == "pending"
    assert "HTTP 500" in failed["last_error"] and "Database down" in failed["last_error"]

    city = city_app(tmp_path / "city")
    with Gunicorn(city, tmp_path / "city", port=port):
        send(ours)
        send(ours)
        cli(ours, "open311", "fetch-updates")
        sent = delivery(ours)
        assert (sent["state"], sent["attempts"]) == ("sent", 3)
        # a worker killed after the city took the request, before it was marked sent
        with ours.app_context():
            get_db().execute("UPDATE outbox SET state = 'pending', sent_at = NULL "
                             "WHERE channel = 'open311'")
        send(ours)  # sent again with the same submission_key: the city answers the first
        assert delivery(ours)["state"] == "sent"
    arrived = rows(city, "SELECT id FROM reports WHERE description = ?",
                   "Deep hole in the cycle lane")
    assert len(arrived) == 1
    [remote] = rows(ours, "SELECT remote_id FROM open311_requests WHERE report_id = ?",
                    report_id)
    assert remote["remote_id"] == str(arrived[0]["id"])


def test_a_request_the_city_refuses_for_good_stops_and_is_shown(ours, tmp_path):
    city = city_app(tmp_path / "city")
    with Gunicorn(city, tmp_path / "city") as server:
        deliver_to(ours, server.url)
        cli(ours, "services", "set", "roads", "--open311-service-code", "pothole=unicorns")
        report_id = new_report(ours)
        send(ours)
        send(ours)
    message = delivery(ours)
    assert (message["state"], message["attempts"]) == ("failed", 1)
    assert "HTTP 404" in message["last_error"] and "unicorns" in message["last_error"]
    page = staff_page(ours, report_id)
    assert "Failed for good" in page and "Open311" in page and "unicorns" in page
