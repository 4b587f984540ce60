"""Our Open311 client: a service's settings, what is sent, what a city may answer, and how
updates are read back, against real HTTP servers on 127.0.0.1 (a second instance of this
application, or a small server where a city behaves differently from ours)."""

import json
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest

from app.dispatch.outside_updates import DEFAULT_STATUS_MAP, our_status
from app.errors import ValidationError
from app.messaging import open311_client
from app.storage import apikeys
from app.web.db import get_db
from tests.factories import jpeg_bytes, make_app
from tests.live import BackgroundServer, LiveServer, free_port
from tests.test_outbox import mail_app, new_report, outbox_rows, send

KEY_ENV = "TEST_CITY_KEY"


@pytest.fixture
def ours(tmp_path, monkeypatch):
    monkeypatch.setenv(KEY_ENV, "the-city-key-0123456789")
    return mail_app(tmp_path, 2525, OUTBOX_RETRY_SECONDS=0)


def cli(app, *args, ok=True):
    result = app.test_cli_runner().invoke(args=list(args))
    assert (result.exit_code == 0) == ok, result.output
    return result.output


class City(BackgroundServer):
    """A city's Open311 server that answers as told: ``routes`` maps (method, path) to
    (status, JSON value), or to a function of the query giving them."""

    def __init__(self, routes, port=0):
        self.routes, self.calls = routes, []
        city = self

        class Handler(BaseHTTPRequestHandler):
            def answer(self, method):
                parts = urlsplit(self.path)
                length = int(self.headers.get("Content-Length") or 0)
                form = parse_qs(self.rfile.read(length).decode()) if length else {}
                query = parse_qs(parts.query)
                city.calls.append((method, parts.path, query, form, self.path))
                route = city.routes.get((method, parts.path), (404, [{"code": 404}]))
                status, value = route(query) if callable(route) else route
                body = json.dumps(value).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def do_GET(self):  # noqa: N802 (http.server's name)
                self.answer("GET")

            def do_POST(self):  # noqa: N802
                self.answer("POST")

            def log_message(self, *args):
                pass

        super().__init__(ThreadingHTTPServer(("127.0.0.1", port), Handler))
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}/v2"


def configure(app, url, *more):
    cli(app, "services", "set", "roads", "--open311-endpoint", url, "--open311-jurisdiction",
        "la.example", "--open311-key-env", KEY_ENV, *more)


# Settings.

@pytest.mark.parametrize(("args", "words"), [
    (["--open311-endpoint", "ftp://city.example/v2"], "must be an http or https address"),
    (["--open311-key-env", "sk_live_abcdef123"], "never the key itself"),
    (["--open311-service-code", "unicorns=pothole"], "There is no category 'unicorns'"),
    (["--open311-service-code", "pothole"], "takes a=b"),
    (["--open311-status", "done=finished"], "'finished' is not one of our statuses"),
    (["--open311-jurisdiction", "la\x1bx"], "U+001B"),
])
def test_bad_settings_are_refused_and_change_nothing(ours, args, words):
    before = cli(ours, "services", "list")
    output = cli(ours, "services", "set", "roads", *args, ok=False)
    assert words in output
    assert cli(ours, "services", "list") == before


def test_settings_are_stored_listed_and_never_hold_the_key(ours):
    configure(ours, "http://127.0.0.1:9/v2/", "--open311-service-code", "pothole=PH-01",
              "--open311-status", "Job Done=fixed")
    listed = cli(ours, "services", "list")
    assert "Open311 http://127.0.0.1:9/v2 (jurisdiction la.example, key from $TEST_CITY_KEY" in \
        listed and '"pothole": "PH-01"' in listed and '"job_done": "fixed"' in listed
    cli(ours, "services", "set", "roads", "--open311-service-code", "pothole=")
    assert '"pothole"' not in cli(ours, "services", "list")
    with ours.app_context():
        assert "the-city-key" not in repr(list(get_db().query("SELECT * FROM services")))
    if not ours.config.get("DATABASE_URL"):  # nor anywhere in SQLite's file
        assert b"the-city-key" not in Path(ours.config["DATABASE"]).read_bytes()
    cli(ours, "services", "set", "roads", "--open311-endpoint", "")
    assert "Open311" not in cli(ours, "services", "list")


def test_discover_lists_a_real_instances_services(ours, tmp_path):
    (tmp_path / "city").mkdir()
    with LiveServer(make_app(tmp_path / "city")) as city:
        output = cli(ours, "services", "discover", f"{city.url}/open311/v2",
                     "--jurisdiction", "city.example")
    assert output.splitlines()[0].startswith("graffiti\tGraffiti")
    assert "pothole\tPothole\t(" in output


def test_discover_says_what_went_wrong(ours):
    with City({}) as city:
        output = cli(ours, "services", "discover", city.url, ok=False)
    assert "HTTP 404" in output


# What is sent.

def test_the_request_carries_the_mapped_code_contact_place_and_public_photos(ours):
    answer = [{"service_request_id": "LA-1001"}]
    with City({("POST", "/v2/requests.json"): (201, answer)}) as city:
        configure(ours, city.url, "--open311-service-code", "pothole=PH-01")
        new_report(ours, email="ada@resident.example",
                   photos=[("a.jpg", jpeg_bytes()), ("b.jpg", jpeg_bytes(color=(1, 2, 3)))])
        with ours.app_context():
            get_db().execute("UPDATE photos SET hidden = 1 WHERE position = 1")
        send(ours)
    [(method, path, query, form, _)] = city.calls
    assert form["service_code"] == ["PH-01"] and form["jurisdiction_id"] == ["la.example"]
    assert form["api_key"] == ["the-city-key-0123456789"]
    assert (form["lat"], form["long"]) == (["0.5"], ["0.5"])
    assert form["email"] == ["ada@resident.example"]
    assert form["first_name"] == ["Ada"] and form["last_name"] == ["Resident"]
    assert len(form["media_url"]) == 1  # the hidden photo is not sent
    assert form["media_url"][0].startswith("https://fix.city.example/photos/")
    with ours.app_context():
        ids = list(get_db().query("SELECT remote_id FROM open311_requests"))
    assert ids == [{"remote_id": "LA-1001"}]


def test_a_token_answer_is_followed_to_the_request_id(ours):
    with City({("POST", "/v2/requests.json"): (200, [{"token": "tok-9"}]),
               ("GET", "/v2/tokens/tok-9.json"): (200, [{"service_request_id": "77",
                                                         "token": "tok-9"}])}) as city:
        configure(ours, city.url)
        new_report(ours)
        send(ours)
    with ours.app_context():
        assert [r["remote_id"] for r in get_db().query(
            "SELECT remote_id FROM open311_requests")] == ["77"]


def test_a_missing_key_variable_is_retried_with_a_clear_error(ours, monkeypatch):
    monkeypatch.delenv(KEY_ENV)
    with City({("POST", "/v2/requests.json"): (200, [{"service_request_id": "1"}])}) as city:
        configure(ours, city.url)
        new_report(ours)
        send(ours)
    [message] = [m for m in outbox_rows(ours) if m["channel"] == "open311"]
    assert message["state"] == "pending" and "TEST_CITY_KEY" in message["last_error"]
    assert city.calls == []


@pytest.mark.parametrize(("status", "state"), [(400, "failed"), (403, "failed"),
                                               (429, "pending"), (503, "pending")])
def test_only_answers_that_will_never_change_stop_the_retries(ours, status, state):
    refusal = [{"code": status, "description": "Nope"}]
    with City({("POST", "/v2/requests.json"): (status, refusal)}) as city:
        configure(ours, city.url)
        new_report(ours)
        send(ours)
    [message] = [m for m in outbox_rows(ours) if m["channel"] == "open311"]
    assert message["state"] == state and f"HTTP {status}" in message["last_error"]
    assert "Nope" in message["last_error"]


# Reading updates back.

def sent_report(ours, city, remote_id="55"):
    city.routes[("POST", "/v2/requests.json")] = (200, [{"service_request_id": remote_id}])
    configure(ours, city.url)
    report_id = new_report(ours)
    send(ours)
    return report_id


def events(app, report_id):
    with app.app_context():
        return [(e["to_status"], e["public_note"]) for e in get_db().query(
            "SELECT to_status, public_note FROM report_events WHERE report_id = ? "
            "AND kind = 'status' ORDER BY id", [report_id])]


def test_updates_are_mapped_recorded_once_and_unknown_ids_ignored(ours):
    updates = [
        {"update_id": "u1", "service_request_id": "55", "status": "INVESTIGATING",
         "updated_datetime": "2026-11-27T09:00:00Z", "description": "Inspector sent"},
        {"update_id": "u2", "service_request_id": "999", "status": "FIXED"},
        {"update_id": "u3", "service_request_id": "55", "status": "Job Done",
         "description": "Filled"},
    ]
    with City({("GET", "/v2/servicerequestupdates.json"): (200, updates)}) as city:
        report_id = sent_report(ours, city)
        cli(ours, "services", "set", "roads", "--open311-status", "job done=fixed")
        assert "2 update(s) read, 2 new recorded" in cli(ours, "open311", "fetch-updates")
        assert "2 update(s) read, 0 new recorded" in cli(ours, "open311", "fetch-updates")
        query = city.calls[-1][2]
    assert events(ours, report_id) == [("acknowledged", "Inspector sent"), ("fixed", "Filled")]
    assert query["jurisdiction_id"] == ["la.example"] and "start_date" in query


def test_without_servicerequestupdates_open_requests_are_read_by_id(ours):
    state = {"status": "open", "status_notes": "Inspector booked",
             "updated_datetime": "2026-11-27T09:00:00Z"}

    def states(query):
        return 200, [{"service_request_id": i, **state}
                     for i in query["service_request_id"][0].split(",")]

    with City({("GET", "/v2/requests.json"): states}) as city:
        report_id = sent_report(ours, city)
        assert "1 update(s) read, 1 new recorded" in cli(ours, "open311", "fetch-updates")
        assert "1 update(s) read, 0 new recorded" in cli(ours, "open311", "fetch-updates")
        state.update(status="closed", status_notes="Resurfaced",
                     updated_datetime="2026-11-27T10:00:00Z")
        assert "1 update(s) read, 1 new recorded" in cli(ours, "open311", "fetch-updates")
        # a closed report is no longer asked about
        assert "0 update(s) read, 0 new recorded" in cli(ours, "open311", "fetch-updates")
        paths = [c[1] for c in city.calls]
    assert "/v2/servicerequestupdates.json" in paths and "/v2/requests.json" in paths
    assert events(ours, report_id) == [("new", "Inspector booked"), ("closed", "Resurfaced")]


def test_id_batches_keep_every_url_short():
    ids = [str(1_000_000 + n) for n in range(1000)]
    batches = list(open311_client.id_batches(ids, 100))
    assert [i for batch in batches for i in batch] == ids
    assert all(100 + sum(len(i) + 3 for i in batch) - 3 <= open311_client.MAX_URL_LENGTH
               for batch in batches)
    assert len(batches) == 3


def test_a_city_that_fails_is_reported_and_the_others_still_fetched(ours):
    with City({("GET", "/v2/servicerequestupdates.json"): (500, [])}) as city:
        sent_report(ours, city)
        output = cli(ours, "open311", "fetch-updates")
    assert "roads: The city's server answered GET servicerequestupdates.json with HTTP 500" \
        in output


@pytest.mark.parametrize(("theirs", "current", "ours_now"), [
    ("OPEN", "new", None), ("open", "fixed", "acknowledged"), ("INVESTIGATING", "new",
                                                               "acknowledged"),
    ("ACTION_SCHEDULED", "new", "in_progress"), ("in progress", "new", "in_progress"),
    ("FIXED", "in_progress", "fixed"), ("fixed", "fixed", None), ("CLOSED", "new", "closed"),
    ("DUPLICATE", "new", "closed"), ("NOT_COUNCILS_RESPONSIBILITY", "new", "rejected"),
    ("not-responsible", "new", "rejected"), ("", "new", None),
])
def test_the_default_status_map(theirs, current, ours_now):
    assert our_status(theirs, current) == ours_now


def test_an_unknown_status_word_is_refused_unless_mapped():
    with pytest.raises(ValidationError):
        our_status("EXPLODED", "new")
    assert our_status("EXPLODED", "new", {"exploded": "closed"}) == "closed"
    assert set(DEFAULT_STATUS_MAP) >= {"open", "closed", "investigating", "in_progress",
                                       "fixed", "not_responsible", "duplicate"}


def test_a_partner_key_and_a_city_are_separate_sources(ours):
    """The same update_id from a partner and from a city are two updates."""
    with ours.app_context():
        apikeys.create_key(get_db(), "Partner", "partner-key-0123456789")
    updates = [{"update_id": "1", "service_request_id": "55", "status": "in_progress",
                "description": "From the city"}]
    with City({("GET", "/v2/servicerequestupdates.json"): (200, updates)}) as city:
        report_id = sent_report(ours, city)
        cli(ours, "open311", "fetch-updates")
    answer = ours.test_client().post("/open311/v2/servicerequestupdates.json", data={
        "api_key": "partner-key-0123456789", "service_request_id": report_id,
        "update_id": "1", "status": "fixed", "description": "From the partner"})
    assert answer.status_code == 200
    assert events(ours, report_id) == [("in_progress", "From the city"),
                                       ("fixed", "From the partner")]


def test_public_answers_go_as_attributes_and_staff_only_ones_stay(ours):
    cli(ours, "questions", "add", "pothole", "depth", "number", "How deep is it, in cm?")
    cli(ours, "questions", "add", "pothole", "hazards", "multivaluelist", "What is near?",
        "--value", "water|Water", "--value", "bike|Bike lane")
    cli(ours, "questions", "add", "pothole", "caller", "string", "Who called it in?",
        "--staff-only")
    with City({("POST", "/v2/requests.json"): (200, [{"service_request_id": "9"}])}) as city:
        configure(ours, city.url)
        new_report(ours, **{"attribute[depth]": "12", "attribute[hazards][]": ["water", "bike"],
                            "attribute[caller]": "Neighbour at 12"})
        send(ours)
    form = city.calls[0][3]
    assert form["attribute[depth]"] == ["12"]
    assert form["attribute[hazards][]"] == ["water", "bike"]
    assert not [name for name in form if "caller" in name]


def test_a_contact_erased_while_the_request_waits_is_not_sent(ours):
    with ours.app_context():
        apikeys.create_key(get_db(), "Partner", "partner-key-0123456789")
    port = free_port()
    configure(ours, f"http://127.0.0.1:{port}/v2")
    answer = ours.test_client().post("/open311/v2/requests.json", data={
        "api_key": "partner-key-0123456789", "service_code": "pothole", "lat": "0.5",
        "long": "0.5", "description": "Hole", "phone": "213 555 0199",
        "first_name": "Grace", "last_name": "Hopper"})
    assert answer.status_code == 200
    send(ours)  # the city is down: the request waits in the outbox, phone and name in it
    cli(ours, "privacy", "erase", "--phone", "2135550199")
    with City({("POST", "/v2/requests.json"): (200, [{"service_request_id": "5"}])},
              port) as city:
        send(ours)
    form = city.calls[0][3]
    assert "phone" not in form and "first_name" not in form and "last_name" not in form
    assert form["description"] == ["Hole"]


def test_one_update_we_cannot_take_does_not_hold_up_the_others(ours):
    updates = [
        {"update_id": "u1", "service_request_id": "55", "status": "EXPLODED"},
        {"update_id": "u2", "service_request_id": "55", "status": "in_progress",
         "description": "Crew\x0b on site" + "!" * 3000},
    ]
    with City({("GET", "/v2/servicerequestupdates.json"): (200, updates)}) as city:
        report_id = sent_report(ours, city)
        output = cli(ours, "open311", "fetch-updates")
    assert "2 update(s) read, 1 new recorded. Update u1 not taken: status 'EXPLODED'" in output
    [(status, note)] = events(ours, report_id)
    assert status == "in_progress" and note.startswith("Crew on site!") and len(note) == 2000
