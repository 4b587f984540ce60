"""Every report has a street address: set at submission from the nearest address point,
given to older reports by ``reports geocode``, and shown on every surface a person or a
partner system reads (one test walks them all)."""

import csv
import io
import json

from app.reporting.places import LocalGazetteer
from app.web.db import get_db
from tests.test_outbox import (
    REPORTER,
    ROADS,
    configure,
    mail_app,
    new_report,
    send,
    staff_client,
)
from tests.test_places import open_addresses_csv
from tests.test_subscriptions import FAN, ask, confirm_from_email, form_token

ADDRESS = "977 N Hill St, Los Angeles 90012"


def load_addresses(app, tmp_path):
    result = app.test_cli_runner().invoke(args=["addresses", "load", str(open_addresses_csv(
        tmp_path / "addresses.csv"))])
    assert result.exit_code == 0, result.output


def stored_address(app, report_id):
    with app.app_context():
        return get_db().execute("SELECT address FROM reports WHERE id = ?",
                                [report_id]).fetchone()[0]


def text_of(client, path, status=200):
    response = client.get(path)
    assert response.status_code == status, (path, response.status_code)
    return response.get_data(as_text=True)


def test_every_surface_shows_the_address(tmp_path, smtp, webhook):
    app = mail_app(tmp_path, smtp.port)
    load_addresses(app, tmp_path)
    configure(app, "--email", ROADS, "--webhook", webhook.url)
    ask(app, "/alerts", "/alerts", kind="radius", lon="0.5", lat="0.5", radius="1000",
        email=FAN)
    send(app)
    confirm_from_email(app, smtp)

    report_id = new_report(app, lon="0.50001", lat="0.5")  # about 1 m from the address point
    assert stored_address(app, report_id) == ADDRESS
    ask(app, f"/reports/{report_id}/subscribe", f"/reports/{report_id}", email=FAN)
    send(app)
    confirm_from_email(app, smtp)
    staff = staff_client(app)
    staff.post(f"/dispatch/reports/{report_id}/status", data={
        "csrf_token": form_token(staff, f"/dispatch/reports/{report_id}"),
        "status": "acknowledged", "public_note": "On the list."})
    send(app)

    client = app.test_client()
    surfaces = {
        "report page": text_of(client, f"/reports/{report_id}"),
        "public list": text_of(client, "/reports"),
        "home page's recent reports": text_of(client, "/"),
        "Atom feed": text_of(client, "/reports.atom"),
        "report history feed": text_of(client, f"/reports/{report_id}/history.atom"),
        "dispatch queue": text_of(staff, "/dispatch"),
        "staff report page": text_of(staff, f"/dispatch/reports/{report_id}"),
        "Open311 XML": text_of(client, f"/open311/v2/requests/{report_id}.xml"),
        "delivery e-mail": smtp.to(ROADS)[0].get_content(),
        "reporter's private link e-mail": smtp.to(REPORTER)[0].get_content(),
        "area alert e-mail": _mail(smtp, FAN, "New report").get_content(),
        "report alert e-mail": _mail(smtp, FAN, f"Report {report_id} ").get_content(),
    }
    for surface, text in surfaces.items():
        assert ADDRESS in text, surface

    [request] = json.loads(text_of(client, f"/open311/v2/requests/{report_id}.json"))
    assert request["address"] == ADDRESS
    assert _map_feature(client, report_id)["properties"]["address"] == ADDRESS
    assert webhook.calls[0]["json"]["report"]["address"] == ADDRESS
    assert _csv_row(text_of(client, "/api/reports.csv?status=acknowledged"))["address"] == ADDRESS
    filtered = json.loads(text_of(client, "/api/reports.geojson?download=1&status=acknowledged"))
    assert filtered["features"][0]["properties"]["address"] == ADDRESS
    assert app.test_cli_runner().invoke(args=["exports", "refresh"]).exit_code == 0
    assert _csv_row(text_of(client, "/api/reports.csv"))["address"] == ADDRESS
    full = json.loads(text_of(client, "/api/reports.geojson?download=1"))
    assert full["features"][0]["properties"]["address"] == ADDRESS


def _mail(smtp, recipient, subject_start):
    [message] = [m for m in smtp.to(recipient) if m["Subject"].startswith(subject_start)]
    return message


def _map_feature(client, report_id):
    collection = json.loads(text_of(client, "/api/reports.geojson?bbox=0,0,2,1"))
    return next(f for f in collection["features"] if f["properties"]["id"] == report_id)


def _csv_row(text):
    [row] = csv.DictReader(io.StringIO(text))
    return row


def test_open311_reports_get_the_address_and_updates_do_not_change_it(tmp_path, key, app,
                                                                       client):
    load_addresses(app, tmp_path)
    answer = client.post("/open311/v2/requests.json", data={
        "api_key": key, "service_code": "pothole", "lat": "0.5", "long": "0.50031",
        "description": "Pothole by the kerb"})
    assert answer.status_code == 200, answer.get_data(as_text=True)
    with app.app_context():
        report_id = get_db().execute("SELECT max(id) FROM reports").fetchone()[0]
    assert stored_address(app, report_id) == "979 N Hill St, Los Angeles 90012"


def test_a_reporter_update_keeps_the_address(tmp_path, app, client):
    load_addresses(app, tmp_path)
    report_id = new_report(app)
    with app.app_context():
        token = get_db().execute("SELECT token FROM reports WHERE id = ?",
                                 [report_id]).fetchone()[0]
    manage = f"/reports/{report_id}/manage/{token}"
    assert client.get(manage).status_code == 200
    updated = client.post(f"{manage}/update", data={"text": "Now it is deeper."},
                          content_type="multipart/form-data")
    assert updated.status_code == 303
    with app.app_context():
        assert get_db().execute("SELECT count(*) FROM report_updates").fetchone()[0] == 1
    assert stored_address(app, report_id) == ADDRESS


def test_a_report_far_from_every_address_has_none_and_says_nothing(tmp_path, app, client):
    load_addresses(app, tmp_path)
    report_id = new_report(app, lon="0.9", lat="0.9")
    assert stored_address(app, report_id) is None
    page = text_of(client, f"/reports/{report_id}")
    assert 'id="report-address"' not in page


def test_geocode_gives_older_reports_their_address(tmp_path, app, runner):
    first, second = new_report(app), new_report(app, lon="1.5", category="streetlight")
    assert stored_address(app, first) is None  # no address points yet
    load_addresses(app, tmp_path)

    result = runner.invoke(args=["reports", "geocode"])
    assert result.exit_code == 0, result.output
    assert "Checked 2 report(s): 2 given an address, 0 with no address point" in result.output
    assert stored_address(app, first) == ADDRESS
    assert stored_address(app, second) == "200 Main St, Los Angeles 90012"

    moved = tmp_path / "moved.csv"
    open_addresses_csv(moved, rows=[(0.5, 0.5, "1", "NEW ST", "", "LOS ANGELES", "90012")])
    assert runner.invoke(args=["addresses", "load", str(moved)]).exit_code == 0
    again = runner.invoke(args=["reports", "geocode"])
    assert "Checked 0 report(s)" in again.output and stored_address(app, first) == ADDRESS
    everything = runner.invoke(args=["reports", "geocode", "--all"])
    assert "Checked 2 report(s): 1 given an address, 1 with no address point" in \
        everything.output
    assert stored_address(app, first) == "1 New St, Los Angeles 90012"
    assert stored_address(app, second) is None


def test_the_demo_reports_have_their_addresses(demo_server):
    with demo_server.app.app_context():
        db = get_db()
        total, with_address = db.execute(
            "SELECT count(*), count(address) FROM reports WHERE source = 'demo'").fetchone()
        sample = db.execute("SELECT description, address FROM reports WHERE source = 'demo' "
                            "ORDER BY id LIMIT 50").fetchall()
    assert total > 1000 and with_address == total
    # the demo's description quotes the MyLA311 address: the stored one is the same place
    same = sum(address.casefold() in description.casefold() for description, address in sample)
    assert same >= 45


def test_an_open311_address_string_is_kept_and_shown_first(tmp_path, key, app, client):
    load_addresses(app, tmp_path)
    given = "Outside the library, 977 N Hill"
    answer = client.post("/open311/v2/requests.json", data={
        "api_key": key, "service_code": "pothole", "lat": "0.5", "long": "0.5",
        "address_string": given, "description": "Pothole by the library"})
    assert answer.status_code == 200, answer.get_data(as_text=True)
    with app.app_context():
        report_id = get_db().execute("SELECT max(id) FROM reports").fetchone()[0]
    assert stored_address(app, report_id) == ADDRESS  # the gazetteer's, kept beside it
    assert given in text_of(client, f"/reports/{report_id}")
    assert given in text_of(client, "/reports")
    assert _map_feature(client, report_id)["properties"]["address"] == given
    assert _csv_row(text_of(client, "/api/reports.csv?status=new"))["address"] == given
    [request] = json.loads(text_of(client, f"/open311/v2/requests/{report_id}.json"))
    assert request["address"] == given


def test_geocoding_all_at_once_agrees_with_the_nearest_address_api(demo_server):
    with demo_server.app.app_context():
        db = get_db()
        rows = db.execute("SELECT lon, lat, address FROM reports WHERE source = 'demo'").fetchall()
        gazetteer = LocalGazetteer(db)
        same = sum(gazetteer.nearest(lon, lat).address == address for lon, lat, address in rows)
    assert same >= 0.995 * len(rows)  # only equally near points may be told apart
