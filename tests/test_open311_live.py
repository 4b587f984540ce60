"""Open311 against a live server on 127.0.0.1: the PyPI client georeport, a plain multipart
POST, and schemathesis against our OpenAPI document."""

import pytest
import requests
import schemathesis
from georeport import GeoReport
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from app.storage import apikeys
from app.web.db import get_db
from tests.factories import gps_exif, jpeg_bytes, make_app
from tests.live import LiveServer

KEY = "live-test-key-0123456789"


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    app = make_app(tmp_path_factory.mktemp("open311"))
    with app.app_context():
        apikeys.create_key(get_db(), "live", KEY)
    with LiveServer(app) as live:
        yield live


def post_with_photo(server, **fields):
    data = {"api_key": KEY, "service_code": "pothole", "lat": "0.25", "long": "0.75",
            "description": "Pothole reported by another system", **fields}
    files = [("media", ("hole.jpg", jpeg_bytes(exif=gps_exif(0.75, 0.25)), "image/jpeg"))]
    response = requests.post(f"{server.url}/open311/v2/requests.json", data=data, files=files,
                             timeout=30)
    assert response.status_code == 200, response.text
    return response.json()[0]["service_request_id"]


def test_multipart_post_appears_on_the_map_api_and_report_page(server):
    request_id = post_with_photo(server)
    features = requests.get(f"{server.url}/api/reports.geojson", params={"bbox": "0,0,1,1"},
                            timeout=30).json()["features"]
    assert request_id in {str(f["id"]) for f in features}
    page = requests.get(f"{server.url}/reports/{request_id}", timeout=30)
    assert page.status_code == 200
    assert "Pothole reported by another system" in page.text and "/photos/" in page.text


@pytest.mark.parametrize("output_format", ["json", "xml"])
def test_georeport_client(server, output_format):
    request_id = post_with_photo(server, description=f"Seen by georeport ({output_format})")
    client = GeoReport(f"{server.url}/open311/v2", jurisdiction="city.example",
                       output_format=output_format)
    services = client.get_service_list()
    assert "pothole" in {s["service_code"] for s in services}
    definition = client.get_service_definition("pothole")
    assert definition["service_code"] == "pothole"
    found = client.get_service_requests(service_code="pothole", status="open")
    found = found if isinstance(found, list) else [found]
    assert request_id in {r["service_request_id"] for r in found}
    one = client.get_service_request(request_id)
    assert one["service_request_id"] == request_id
    assert one["agency_responsible"] == "Roads department"
    assert one["status"] == "open"


OPERATIONS = [
    ("/discovery.json", "GET"), ("/services.json", "GET"),
    ("/services/{service_code}.json", "GET"), ("/requests.json", "GET"),
    ("/requests.json", "POST"), ("/requests/{service_request_id}.json", "GET"),
    ("/tokens/{token}.json", "GET"), ("/servicerequestupdates.json", "GET"),
    ("/servicerequestupdates.json", "POST"),
]


@pytest.fixture(scope="module")
def open311_schema(server):
    return schemathesis.openapi.from_url(f"{server.url}/open311/v2/openapi.json")


def test_every_operation_is_fuzzed(open311_schema):
    documented = {(path, method.upper()) for path, methods in
                  open311_schema.raw_schema["paths"].items() for method in methods}
    assert documented == set(OPERATIONS)


@pytest.mark.parametrize(("path", "method"), OPERATIONS)
def test_schemathesis_no_5xx_and_responses_match_the_schema(open311_schema, path, method):
    """A bounded run per operation: no 5xx, and every response matches the document."""
    operation = open311_schema[path][method]

    @given(case=operation.as_strategy())
    @settings(max_examples=25, deadline=None, database=None,
              suppress_health_check=list(HealthCheck))
    def check(case):
        case.call_and_validate(checks=[not_a_server_error, status_code_conformance,
                                       content_type_conformance, response_schema_conformance])

    check()
