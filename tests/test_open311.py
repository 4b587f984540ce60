"""Open311 GeoReport v2: every endpoint in JSON and XML, and every error the spec names."""

import io
import xml.etree.ElementTree as ET

import pytest

from app.storage import apikeys, row_counts
from app.web.db import get_db
from tests.factories import OPEN311_KEY, jpeg_bytes

BASE = "/open311/v2"
KEY = OPEN311_KEY


def parse(response, fmt):
    if fmt == "json":
        return response.get_json()
    return ET.fromstring(response.data)


def create(client, fmt="json", **fields):
    data = {"api_key": KEY, "service_code": "pothole", "lat": "0.5", "long": "0.5",
            "description": "Hole", **fields}
    return client.post(f"{BASE}/requests.{fmt}", data={k: v for k, v in data.items()
                                                        if v is not None})


@pytest.mark.parametrize("fmt", ["json", "xml"])
def test_discovery(client, fmt):
    doc = parse(client.get(f"{BASE}/discovery.{fmt}"), fmt)
    if fmt == "json":
        assert doc["endpoints"][0]["url"].endswith("/open311/v2")
        assert "text/xml" in doc["endpoints"][0]["formats"]
    else:
        assert doc.tag == "discovery"
        assert doc.find("endpoints/endpoint/formats/format").text == "text/xml"


@pytest.mark.parametrize("fmt", ["json", "xml"])
def test_services_and_definition(client, fmt):
    services = parse(client.get(f"{BASE}/services.{fmt}"), fmt)
    if fmt == "json":
        codes = {s["service_code"] for s in services}
        pothole = next(s for s in services if s["service_code"] == "pothole")
        assert pothole["metadata"] is False and pothole["type"] == "realtime"
        assert "Roads department" in pothole["group"]
    else:
        codes = {s.findtext("service_code") for s in services.findall("service")}
        assert services.find("service/metadata").text == "false"
    assert codes == {"pothole", "streetlight", "graffiti"}
    definition = parse(client.get(f"{BASE}/services/pothole.{fmt}"), fmt)
    if fmt == "json":
        assert definition == {"service_code": "pothole", "attributes": []}
    else:
        assert definition.tag == "service_definition"
        assert definition.findtext("service_code") == "pothole"


@pytest.mark.parametrize("fmt", ["json", "xml"])
def test_create_then_read_search_and_token(client, key, fmt):
    created = parse(create(client, fmt, email="ann@example.org", first_name="Ann"), fmt)
    if fmt == "json":
        (item,) = created
        request_id, token = item["service_request_id"], item["token"]
    else:
        request_id = created.findtext("request/service_request_id")
        token = created.findtext("request/token")
    assert request_id.isdigit()
    one = client.get(f"{BASE}/requests/{request_id}.{fmt}")
    assert b"ann@example.org" not in one.data and b"Ann" not in one.data
    found = parse(one, fmt)
    if fmt == "json":
        (record,) = found
        assert record["service_request_id"] == request_id and record["status"] == "open"
        assert record["agency_responsible"] == "Roads department"
        assert record["requested_datetime"].endswith("+00:00")
        assert isinstance(record["lat"], float)
    else:
        assert found.tag == "service_requests"
        assert found.findtext("request/status") == "open"
    lookup = parse(client.get(f"{BASE}/tokens/{token}.{fmt}"), fmt)
    assert (lookup[0]["service_request_id"] if fmt == "json"
            else lookup.findtext("request/service_request_id")) == request_id
    search = parse(client.get(f"{BASE}/requests.{fmt}?status=open&service_code=pothole"), fmt)
    assert len(search if fmt == "json" else search.findall("request")) == 1


def test_search_filters_and_extensions(client, key, app):
    first = create(client).get_json()[0]["service_request_id"]
    second = create(client, lat="0.5", long="1.5", service_code="streetlight").get_json()[0]
    with app.app_context():
        from app.dispatch import workflow

        workflow.change_status(get_db(), int(first), "staff", workflow.StatusChange(
            "fixed", public_note="Patched this morning."))
    get = lambda q: client.get(f"{BASE}/requests.json?{q}").get_json()  # noqa: E731
    assert [r["service_request_id"] for r in get("status=closed")] == [first]
    assert [r["service_request_id"] for r in get("status=open")] == [
        second["service_request_id"]]
    assert len(get("status=open,closed")) == 2
    assert len(get(f"service_request_id={first}&status=open")) == 1  # overrides the rest
    assert get("start_date=2000-01-01T00:00:00Z&end_date=2000-02-01T00:00:00Z") == []
    assert len(get("bbox=1,0,2,1")) == 1
    assert len(get("lat=0.5&long=0.5&radius=1000")) == 1
    assert len(get("lat=0.5&long=0.5&radius=50000")) == 1
    assert len(get("lat=0.5&long=0.5&radius=50000&page_size=1&page=2")) == 0
    closed = get(f"service_request_id={first}&extensions=true")[0]
    assert closed["status_notes"] == "Fixed: Patched this morning."
    assert closed["expected_datetime"] is None
    assert closed["extended_attributes"]["detailed_status"] == "fixed"
    assert [e["to_status"] for e in closed["extended_attributes"]["history"]] == ["new", "fixed"]


def test_multipart_post_with_photos_uses_the_photo_pipeline(client, key):
    photos = [(io.BytesIO(jpeg_bytes(color=(i, 0, 0))), f"p{i}.jpg") for i in range(2)]
    response = client.post(f"{BASE}/requests.json", content_type="multipart/form-data", data={
        "api_key": KEY, "service_code": "pothole", "lat": "0.5", "long": "0.5",
        "description": "With photos", "media": photos,
        "media_url": "https://photos.example/1.jpg"})
    assert response.status_code == 200, response.data
    record = client.get(f"{BASE}/requests/{response.get_json()[0]['service_request_id']}.json")
    media = record.get_json()[0]["media_url"]
    assert "/photos/" in media
    served = client.get(media.replace("http://localhost", ""))
    served.close()
    assert served.status_code == 200


@pytest.mark.parametrize("fmt", ["json", "xml"])
@pytest.mark.parametrize(("fields", "status", "message"), [
    ({"api_key": None}, 403, "valid api_key"),
    ({"api_key": "wrong"}, 403, "valid api_key"),
    ({"lat": None}, 400, "latitude is missing"),
    ({"lat": "nan"}, 400, "not a finite number"),
    ({"long": "200"}, 400, "out of range"),
    ({"lat": "10", "long": "10"}, 400, "outside the area we cover"),
    ({"service_code": "unicorns"}, 404, "no service_code 'unicorns'"),
    ({"service_code": "streetlight"}, 400, "not handled at this location"),
    ({"description": ""}, 400, "Describe the problem"),
    ({"description": "x" * 5001}, 400, "the limit is 5000"),
    ({"email": "nope"}, 400, "not a valid e-mail"),
    ({"media_url": "ftp://x/y"}, 400, "media_url must be"),
    ({"jurisdiction_id": "elsewhere"}, 404, "Unknown jurisdiction_id"),
])
def test_bad_posts_get_the_spec_error_list_and_store_nothing(client, key, snapshot, fmt,
                                                              fields, status, message):
    before = snapshot()
    response = create(client, fmt, **fields)
    assert response.status_code == status
    errors = parse(response, fmt)
    if fmt == "json":
        assert errors[0]["code"] == status and message in errors[0]["description"]
    else:
        assert errors.tag == "errors" and errors.findtext("error/code") == str(status)
        assert message in errors.findtext("error/description")
    assert snapshot() == before


def test_bad_media_file_stores_nothing(client, key, snapshot):
    before = snapshot()
    response = client.post(f"{BASE}/requests.xml", content_type="multipart/form-data", data={
        "api_key": KEY, "service_code": "pothole", "lat": "0.5", "long": "0.5",
        "description": "x", "media": [(io.BytesIO(b"<svg onload=alert(1)>"), "x.svg")]})
    assert response.status_code == 400
    assert "not an image" in ET.fromstring(response.data).findtext("error/description")
    assert snapshot() == before


@pytest.mark.parametrize("fmt", ["json", "xml"])
@pytest.mark.parametrize(("path", "status"), [
    ("/services/unicorns.{fmt}", 404),
    ("/requests/999.{fmt}", 404),
    ("/tokens/nope.{fmt}", 404),
    ("/services.{fmt}?jurisdiction_id=elsewhere", 404),
    ("/requests.{fmt}?status=maybe", 400),
    ("/requests.{fmt}?start_date=yesterday", 400),
    ("/requests.{fmt}?start_date=2020-01-01T00:00:00Z&end_date=2020-06-01T00:00:00Z", 400),
    ("/requests.{fmt}?page_size=5000", 400),
    ("/requests.{fmt}?lat=1&long=1&radius=999999", 400),
    ("/requests.{fmt}?service_request_id=a,b", 400),
    ("/servicerequestupdates.{fmt}?start_date=soon", 400),
])
def test_read_errors(client, fmt, path, status):
    response = client.get(BASE + path.format(fmt=fmt))
    assert response.status_code == status
    if fmt == "json":
        assert response.get_json()[0]["code"] == status
    else:
        assert ET.fromstring(response.data).findtext("error/code") == str(status)


def test_jurisdiction_is_optional_and_the_right_one_works(client):
    assert client.get(f"{BASE}/services.json?jurisdiction_id=city.example").status_code == 200


@pytest.mark.parametrize("fmt", ["json", "xml"])
def test_service_request_updates_in_fixmystreet_shape(client, key, app, fmt):
    request_id = create(client).get_json()[0]["service_request_id"]
    with app.app_context():
        from app.dispatch import workflow

        workflow.change_status(get_db(), int(request_id), "staff", workflow.StatusChange(
            "in_progress", public_note="On it."))
    updates = parse(client.get(f"{BASE}/servicerequestupdates.{fmt}"), fmt)
    if fmt == "json":
        statuses = [(u["service_request_id"], u["status"]) for u in updates]
        assert (request_id, "IN_PROGRESS") in statuses
    else:
        assert updates.tag == "service_request_updates"
        assert "IN_PROGRESS" in [u.findtext("status") for u in updates.findall("request_update")]


def test_api_keys_cli(runner, app):
    created = runner.invoke(args=["apikeys", "create", "fixmystreet"])
    key = created.output.strip()
    assert created.exit_code == 0 and len(key) >= 24
    with app.app_context():
        assert apikeys.key_is_valid(get_db(), key)
        assert key not in str(list(get_db().query("SELECT * FROM api_keys")))
    assert runner.invoke(args=["apikeys", "create", "fixmystreet"]).exit_code != 0
    assert runner.invoke(args=["apikeys", "revoke", "fixmystreet"]).exit_code == 0
    with app.app_context():
        assert not apikeys.key_is_valid(get_db(), key)
        assert row_counts(get_db(), ("api_keys",)) == {"api_keys": 1}


def test_openapi_document(client):
    document = client.get(f"{BASE}/openapi.json").get_json()
    assert document["openapi"].startswith("3.")
    assert "/requests.json" in document["paths"] and "post" in document["paths"]["/requests.json"]
