"""The GeoReport v2 text, replayed with FixMyStreet's request shapes (XML): every field a
client sends is kept or refused, partners post updates, and the spec's smaller points."""

import io
import json
import xml.etree.ElementTree as ET
from urllib.parse import quote

import pytest
import requests
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from app.storage import apikeys, catalog, row_counts
from app.storage import reports as report_rows
from app.web.db import get_db
from tests.factories import OPEN311_KEY, jpeg_bytes, make_app
from tests.live import Gunicorn
from tests.test_places import loaded  # noqa: F401 (fixture: the gazetteer's test addresses)

BASE = "/open311/v2"
#: What FixMyStreet's Open311 client posts for a report (perllib/Open311.pm's parameters).
FMS_REPORT = {
    "api_key": OPEN311_KEY, "jurisdiction_id": "city.example", "service_code": "pothole",
    "lat": "0.5", "long": "0.5", "email": "ada@resident.example", "first_name": "Ada",
    "last_name": "Lovelace", "phone": "+1 213 555 0100",
    "description": "title: Pothole\n\ndetail: Deep hole by the bus stop\n\nurl: https://fms",
    "address_string": "977 N Hill St, Los Angeles", "address_id": "LA-977-N-HILL",
    "device_id": "fms-device-12", "account_id": "fms-user-3456",
}


def xml(response):
    assert response.headers["Content-Type"] == "text/xml; charset=utf-8", response.data
    return ET.fromstring(response.data)


def fms_post(client, photos=2, media_urls=("https://fms.example/p/1.jpg",
                                           "https://fms.example/p/2.jpg"), **fields):
    data = {**FMS_REPORT, **fields}
    data = {k: v for k, v in data.items() if v is not None}
    data["media_url"] = list(media_urls)
    for number in range(1, photos + 1):
        data[f"photo{number}"] = (io.BytesIO(jpeg_bytes(color=(number * 40, 20, 20))),
                                  f"photo{number}.jpeg")
    return client.post(f"{BASE}/requests.xml", data=data, content_type="multipart/form-data")


def created_id(response):
    assert response.status_code == 200, response.data
    return xml(response).findtext("request/service_request_id")


def stored(app, report_id):
    with app.app_context():
        return next(get_db().query("SELECT * FROM reports WHERE id = ?", [report_id]))


def test_the_service_list_as_fixmystreet_reads_it(client):
    services = xml(client.get(f"{BASE}/services.xml?jurisdiction_id=city.example"))
    assert services.tag == "services"
    assert {s.findtext("service_code") for s in services.findall("service")} >= {"pothole"}
    assert all(s.findtext("service_name") for s in services.findall("service"))


def test_every_field_of_a_fixmystreet_post_is_kept(app, client, key):
    report_id = created_id(fms_post(client))
    with app.app_context():
        db = get_db()
        row = db.execute(
            "SELECT reporter_phone, device_id, account_id, address_string, address_id, "
            "media_urls, reporter_name, reporter_email FROM reports WHERE id = ?",
            [report_id]).fetchone()
        photos = db.execute("SELECT count(*) FROM photos WHERE report_id = ?",
                            [report_id]).fetchone()[0]
    assert row[:5] == ("+1 213 555 0100", "fms-device-12", "fms-user-3456",
                       "977 N Hill St, Los Angeles", "LA-977-N-HILL")
    assert json.loads(row[5]) == ["https://fms.example/p/1.jpg", "https://fms.example/p/2.jpg"]
    assert row[6:] == ("Ada Lovelace", "ada@resident.example")
    assert photos == 2  # photo1 and photo2, named as FixMyStreet names them
    record = xml(client.get(f"{BASE}/requests/{report_id}.xml?extensions=true"))
    assert record.findtext("request/address") == "977 N Hill St, Los Angeles"
    assert record.findtext("request/address_id") == "LA-977-N-HILL"
    assert [e.text for e in record.findall("request/extended_attributes/media_urls/media_url")] \
        == ["https://fms.example/p/1.jpg", "https://fms.example/p/2.jpg"]
    assert "/photos/" in record.findtext("request/media_url")


def test_the_phone_is_private_and_erased_with_the_contact(app, client, key, runner):
    report_id = created_id(fms_post(client))
    for path in [f"{BASE}/requests/{report_id}.xml?extensions=true", f"{BASE}/requests.json",
                 f"/reports/{report_id}", "/api/reports.csv", "/reports.atom"]:
        assert "555 0100" not in client.get(path).get_data(as_text=True), path
    result = runner.invoke(args=["privacy", "erase", "--email", "ada@resident.example"])
    assert result.exit_code == 0, result.output
    assert stored(app, report_id)["reporter_phone"] is None


def test_erasing_a_phone_clears_it_from_reports_and_messages(app, client, key, runner):
    report_id = created_id(fms_post(client, email=None, phone="(213) 555-0199"))
    other = created_id(fms_post(client, email=None, phone="+1 310 555 0111"))
    with app.app_context():
        get_db()["outbox"].insert({
            "channel": "webhook", "purpose": "report", "recipient": "https://x.example/",
            "body": json.dumps({"report": {"phone": "(213) 555-0199"}}),
            "report_id": int(report_id), "dedupe_key": "k", "next_attempt_at": "2026-01-01",
            "created_at": "2026-01-01"})
    result = runner.invoke(args=["privacy", "erase", "--phone", "213.555.0199"])
    assert result.exit_code == 0 and "1 report(s)" in result.output, result.output
    assert stored(app, report_id)["reporter_phone"] is None
    assert stored(app, report_id)["reporter_name"] is None
    assert stored(app, other)["reporter_phone"] == "+1 310 555 0111"
    with app.app_context():
        body = get_db().execute("SELECT body FROM outbox WHERE dedupe_key = 'k'").fetchone()[0]
    assert json.loads(body) == {"report": {"phone": None}}
    assert runner.invoke(args=["privacy", "erase"]).exit_code != 0


def test_retention_clears_an_old_phone(app, client, key, runner):
    report_id = created_id(fms_post(client, email=None, first_name=None, last_name=None))
    with app.app_context():
        get_db().execute("UPDATE reports SET created_at = '2020-01-01T00:00:00+00:00'")
    assert runner.invoke(args=["privacy", "retention"]).exit_code == 0
    assert stored(app, report_id)["reporter_phone"] is None


@pytest.mark.parametrize(("fields", "status", "words"), [
    ({"phone": "call me maybe"}, 400, "not a telephone number"),
    ({"device_id": "d" * 201}, 400, "device_id is longer than 200"),
    ({"address_string": "a" * 501}, 400, "address_string is longer than 500"),
    ({"service_code": "unicorns"}, 404, "no service_code 'unicorns'"),
])
def test_a_field_that_cannot_be_kept_is_refused(client, key, snapshot, fields, status, words):
    before = snapshot()
    response = fms_post(client, **fields)
    assert response.status_code == status
    assert words in xml(response).findtext("error/description")
    assert snapshot() == before


def test_more_media_urls_than_photo_slots_are_refused(client, key, snapshot):
    before = snapshot()
    response = fms_post(client, media_urls=[f"https://fms.example/{n}.jpg" for n in range(4)])
    assert response.status_code == 400
    assert "At most 3 media_url" in xml(response).findtext("error/description")
    assert snapshot() == before


def test_an_exact_address_without_lat_long_is_placed_by_the_gazetteer(app, loaded, key):  # noqa: F811
    client = app.test_client()
    report_id = created_id(fms_post(client, lat=None, long=None, photos=0,
                                    address_string="977 N Hill St, Los Angeles"))
    row = stored(app, report_id)
    assert (row["lon"], row["lat"]) == (0.5, 0.5)


@pytest.mark.parametrize(("fields", "words"), [
    ({"address_string": "Somewhere near the park"}, "not an address we can place exactly"),
    ({"address_string": "", "address_id": "LA-977"}, "address_id 'LA-977' alone"),
])
def test_an_address_that_cannot_be_placed_is_a_400_that_says_so(app, loaded, key,  # noqa: F811
                                                                  snapshot, fields, words):
    client = app.test_client()
    before = snapshot()
    response = fms_post(client, lat=None, long=None, photos=0, **fields)
    assert response.status_code == 400
    assert words in xml(response).findtext("error/description")
    assert snapshot() == before


def test_a_repeated_post_with_its_submission_key_creates_one_request(app, client, key):
    first = created_id(fms_post(client, photos=1, submission_key="partner-retry-0123456789"))
    with app.app_context():
        counts = row_counts(get_db())
    again = created_id(fms_post(client, photos=1, submission_key="partner-retry-0123456789"))
    assert again == first
    with app.app_context():
        assert row_counts(get_db()) == counts


def test_the_token_finds_the_request_and_nothing_more(app, client, key):
    answer = xml(fms_post(client, photos=0)).find("request")
    token, report_id = answer.findtext("token"), answer.findtext("service_request_id")
    assert xml(client.get(f"{BASE}/tokens/{token}.xml")).findtext(
        "request/service_request_id") == report_id
    assert client.get(f"/reports/{report_id}/manage/{token}").status_code == 404
    assert token != stored(app, report_id)["token"]


# POST servicerequestupdates, in FixMyStreet's shape.

def post_update(client, report_id, key=OPEN311_KEY, **fields):
    data = {"api_key": key, "jurisdiction_id": "city.example", "service_request_id": report_id,
            "update_id": "upd-1", "status": "IN_PROGRESS",
            "updated_datetime": "2026-11-27T10:00:00+00:00",
            "description": "A crew is on its way.", "media_url": "https://city.example/u.jpg",
            "first_name": "Roads", "last_name": "Team", **fields}
    return client.post(f"{BASE}/servicerequestupdates.xml",
                       data={k: v for k, v in data.items() if v is not None})


def test_a_partners_update_is_recorded_once(app, client, key):
    report_id = created_id(fms_post(client, photos=0))
    answer = post_update(client, report_id)
    assert answer.status_code == 200, answer.data
    assert xml(answer).findtext("request_update/update_id") == "upd-1"
    with app.app_context():
        counts = row_counts(get_db())
    assert post_update(client, report_id).status_code == 200  # a repeat changes nothing
    with app.app_context():
        assert row_counts(get_db()) == counts
        event = get_db().execute(
            "SELECT actor, from_status, to_status, public_note, details FROM report_events "
            "WHERE report_id = ? AND kind = 'status'", [report_id]).fetchone()
    assert event[:4] == ("Open311: tests", "new", "in_progress", "A crew is on its way.")
    assert json.loads(event[4])["media_url"] == "https://city.example/u.jpg"
    page = client.get(f"/reports/{report_id}").get_data(as_text=True)
    assert "A crew is on its way." in page and "In progress" in page
    updates = xml(client.get(f"{BASE}/servicerequestupdates.xml"))
    mine = [u for u in updates.findall("request_update")
            if u.findtext("service_request_id") == report_id]
    assert [u.findtext("status") for u in mine] == ["OPEN", "IN_PROGRESS"]


@pytest.mark.parametrize(("fields", "status", "words"), [
    ({"key": "wrong"}, 403, "valid api_key"),
    ({"service_request_id": "999999"}, 404, "no service request 999999"),
    ({"service_request_id": "abc"}, 404, "no service request 'abc'"),
    ({"update_id": None}, 400, "update_id is required"),
    ({"status": "EXPLODED"}, 400, "status 'EXPLODED' is not one we know"),
    ({"updated_datetime": "yesterday"}, 400, "not a W3C date-time"),
    ({"media_url": "javascript:alert(1)"}, 400, "media_url must be"),
])
def test_a_bad_update_is_refused_and_stores_nothing(client, key, snapshot, fields, status,
                                                     words):
    report_id = created_id(fms_post(client, photos=0))
    before = snapshot()
    response = post_update(client, fields.pop("service_request_id", report_id), **fields)
    assert response.status_code == status
    assert words in xml(response).findtext("error/description")
    assert snapshot() == before


def test_an_update_key_in_the_url_is_refused(client, key, snapshot):
    report_id = created_id(fms_post(client, photos=0))
    before = snapshot()
    response = client.post(f"{BASE}/servicerequestupdates.xml?api_key={key}",
                           data={"service_request_id": report_id, "update_id": "x"})
    assert response.status_code == 400 and snapshot() == before


# The spec's smaller points.

def add_reports(app, count, first_id=1, status="new"):
    with app.app_context():
        db = get_db()
        pothole = catalog.category_by_code(db, "pothole")["id"]
        area = db.execute("SELECT id, service_id, version_id FROM service_areas "
                          "ORDER BY id LIMIT 1").fetchone()
        report_rows.insert_reports_bulk(db, ({
            "id": first_id + n, "category_id": pothole, "service_id": area[1],
            "area_id": area[0], "boundary_version_id": area[2], "lon": 0.5, "lat": 0.5,
            "description": f"Report {n}", "status": status, "source": "test",
            "created_at": "2026-11-20T08:00:00+00:00", "updated_at": "2026-11-20T08:00:00+00:00",
        } for n in range(count)))


def test_repeated_and_comma_separated_status_and_service_code(app, client):
    add_reports(app, 2, 1, "new")
    add_reports(app, 2, 10, "fixed")
    for query in ["status=open&status=closed", "status=open,closed"]:
        found = client.get(f"{BASE}/requests.json?{query}").get_json()
        assert {r["status"] for r in found} == {"open", "closed"}, query
    assert len(client.get(f"{BASE}/requests.json?status=closed").get_json()) == 2
    for query in ["service_code=pothole&service_code=graffiti", "service_code=pothole,graffiti"]:
        assert len(client.get(f"{BASE}/requests.json?{query}").get_json()) == 4, query


def test_servicerequestupdates_pages(app, client):
    add_reports(app, 5)
    with app.app_context():
        for report_id in range(1, 6):
            report_rows.add_event(get_db(), report_id, "created", "test", to_status="new",
                                  at="2026-11-20T08:00:00+00:00")
    pages = [client.get(f"{BASE}/servicerequestupdates.json?page={n}&page_size=2").get_json()
             for n in (1, 2, 3, 4)]
    assert [len(p) for p in pages] == [2, 2, 1, 0]
    ids = [u["service_request_id"] for p in pages for u in p]
    assert ids == ["1", "2", "3", "4", "5"]
    bad = client.get(f"{BASE}/servicerequestupdates.json?page_size=1001")
    assert bad.status_code == 400


def test_cors_on_public_reads_only_and_json_says_its_charset(client, key):
    for path in ["/discovery.json", "/services.xml", "/requests.json",
                 "/servicerequestupdates.xml"]:
        response = client.get(BASE + path)
        assert response.headers["Access-Control-Allow-Origin"] == "*", path
    assert client.get(f"{BASE}/requests.json").headers["Content-Type"] == \
        "application/json; charset=utf-8"
    posted = client.post(f"{BASE}/requests.json", data={**FMS_REPORT})
    assert posted.status_code == 200
    assert "Access-Control-Allow-Origin" not in posted.headers
    assert "Access-Control-Allow-Origin" not in client.get("/reports").headers


def test_polling_1000_ids_under_the_production_server(app, tmp_path):
    """FixMyStreet polls its open reports with every id in one GET; seven-digit ids with
    encoded commas make a request line of about 10 KB (gunicorn's default 4 KB was a 414)."""
    add_reports(app, 1000, first_id=1_000_000)
    ids = ",".join(str(1_000_000 + n) for n in range(1000))
    with Gunicorn(app, tmp_path) as server:
        url = (f"{server.url}{BASE}/requests.xml?jurisdiction_id=city.example"
               f"&service_request_id={quote(ids, safe='')}")
        assert len(url) > 10_000
        response = requests.get(url, timeout=60)
    assert response.status_code == 200, response.text[:200]
    found = ET.fromstring(response.content).findall("request")
    assert len(found) == 1000


_FUZZ = {}


def fuzz_client(tmp_path_factory):
    """One app, key and report for every drawn example (examples cannot use fixtures)."""
    if "client" not in _FUZZ:
        app = make_app(tmp_path_factory.mktemp("fuzz311"))
        with app.app_context():
            apikeys.create_key(get_db(), "fuzz", OPEN311_KEY)
        client = app.test_client()
        created_id(fms_post(client, photos=0))
        _FUZZ["client"] = client
    return _FUZZ["client"]


@settings(max_examples=120, deadline=None, suppress_health_check=list(HealthCheck))
@given(st.dictionaries(st.sampled_from(["service_request_id", "update_id", "update_id_ext",
                                        "status", "updated_datetime", "description",
                                        "media_url"]), st.text(max_size=40)))
def test_a_posted_update_is_recorded_or_refused_never_a_5xx(tmp_path_factory, fields):
    client = fuzz_client(tmp_path_factory)
    response = client.post(f"{BASE}/servicerequestupdates.xml",
                           data={"service_request_id": "1", **fields, "api_key": OPEN311_KEY})
    assert response.status_code in (200, 400, 404), response.data
    ET.fromstring(response.data)  # the answer is always well-formed XML
