"""Questions through Open311: the real service definition (JSON and XML, checked against the
GeoReport v2 service definition schema and read by the PyPI client georeport), answers sent
as attribute[code] and attribute[code][], blocking answers, extensions, and Hypothesis over
answers of every datatype."""

import xml.etree.ElementTree as ET

import jsonschema_rs
import pytest
import requests
import xmltodict
from georeport import GeoReport
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from app.reporting import questions
from app.storage import apikeys, row_counts
from app.storage import questions as question_rows
from app.web.db import get_db
from tests.factories import OPEN311_KEY, make_app
from tests.live import LiveServer
from tests.test_questions import EVERY_DATATYPE

BASE = "/open311/v2"

#: The GeoReport v2 service definition (wiki.open311.org/GeoReport_v2#GET_Service_Definition)
#: as a JSON Schema: every field the spec lists for an attribute, with its type.
SERVICE_DEFINITION_SCHEMA = {
    "type": "object",
    "required": ["service_code", "attributes"],
    "properties": {
        "service_code": {"type": "string"},
        "attributes": {"type": "array", "items": {
            "type": "object",
            "required": ["variable", "code", "datatype", "required", "datatype_description",
                         "order", "description"],
            "properties": {
                "variable": {"type": "boolean"},
                "code": {"type": "string", "minLength": 1},
                "datatype": {"enum": ["string", "number", "datetime", "text",
                                      "singlevaluelist", "multivaluelist"]},
                "required": {"type": "boolean"},
                "datatype_description": {"type": ["string", "null"]},
                "order": {"type": "integer", "minimum": 1},
                "description": {"type": "string", "minLength": 1},
                "values": {"type": "array", "minItems": 1, "items": {
                    "type": "object", "required": ["key", "name"],
                    "properties": {"key": {"type": "string"}, "name": {"type": "string"}},
                    "additionalProperties": False}},
            },
            "additionalProperties": False,
        }},
    },
    "additionalProperties": False,
}
GOOD = {"attribute[pole]": "LA-1234", "attribute[depth]": "12",
        "attribute[seen]": "2026-11-20T08:30", "attribute[details]": "Deep\nand wide",
        "attribute[lane]": "edge", "attribute[hazards][]": ["water", "bike"],
        "attribute[danger]": "no"}


def with_questions(app):
    with app.app_context():
        questions.import_definitions(get_db(), {"categories": {"pothole": EVERY_DATATYPE}})
        apikeys.create_key(get_db(), "tests", OPEN311_KEY)
    return app


@pytest.fixture
def asking(app):
    return with_questions(app)


def post(client, fmt="json", **fields):
    data = {"api_key": OPEN311_KEY, "service_code": "pothole", "lat": "0.5", "long": "0.5",
            "description": "Hole", **fields}
    return client.post(f"{BASE}/requests.{fmt}", data=data)


def test_the_definition_is_the_categorys_questions_and_matches_the_schema(asking, client):
    definition = client.get(f"{BASE}/services/pothole.json").get_json()
    jsonschema_rs.validate(SERVICE_DEFINITION_SCHEMA, definition)
    attributes = definition["attributes"]
    assert [a["code"] for a in attributes] == [q["code"] for q in EVERY_DATATYPE]
    assert [a["order"] for a in attributes] == list(range(1, len(EVERY_DATATYPE) + 1))
    assert {a["datatype"] for a in attributes} == set(questions.DATATYPES)
    lane = attributes[4]
    assert lane["values"] == [{"key": "middle", "name": "Middle of the lane"},
                              {"key": "edge", "name": "Near the kerb"}]
    assert attributes[1]["required"] is True and attributes[7]["variable"] is False
    assert attributes[0]["datatype_description"] == "Painted on the pole, e.g. 1234-567"
    empty = client.get(f"{BASE}/services/graffiti.json").get_json()
    assert empty == {"service_code": "graffiti", "attributes": []}
    jsonschema_rs.validate(SERVICE_DEFINITION_SCHEMA, empty)


def xml_definition(response):
    """The XML definition as the JSON one: lists and booleans as the spec's XML shows them."""
    root = ET.fromstring(response.data)
    assert root.tag == "service_definition"
    attributes = []
    for element in root.find("attributes"):
        attribute = {child.tag: child.text for child in element if child.tag != "values"}
        for flag in ("variable", "required"):
            attribute[flag] = {"true": True, "false": False}[attribute[flag]]
        attribute["order"] = int(attribute["order"])
        values = element.find("values")
        if values is not None:
            attribute["values"] = [{v.tag: v.text for v in value} for value in values]
        attributes.append(attribute)
    return {"service_code": root.find("service_code").text, "attributes": attributes}


def test_the_xml_definition_says_the_same_and_matches_the_schema(asking, client):
    from_json = client.get(f"{BASE}/services/pothole.json").get_json()
    from_xml = xml_definition(client.get(f"{BASE}/services/pothole.xml"))
    jsonschema_rs.validate(SERVICE_DEFINITION_SCHEMA, from_xml)
    assert from_xml == from_json


def test_metadata_is_true_for_services_with_questions(asking, client):
    services = {s["service_code"]: s for s in client.get(f"{BASE}/services.json").get_json()}
    assert services["pothole"]["metadata"] is True
    assert services["graffiti"]["metadata"] is False
    xml = ET.fromstring(client.get(f"{BASE}/services.xml").data)
    metadata = {s.find("service_code").text: s.find("metadata").text for s in xml}
    assert metadata == {"graffiti": "false", "pothole": "true", "streetlight": "false"}


@pytest.mark.parametrize("fmt", ["json", "xml"])
def test_every_datatype_round_trips_through_open311(asking, client, fmt):
    response = post(client, fmt, **GOOD)
    assert response.status_code == 200, response.get_data(as_text=True)
    with asking.app_context():
        answers = question_rows.report_answers(get_db(), 1, public_only=False)
    assert {a["code"]: a["value"] for a in answers} == {
        "pole": "LA-1234", "depth": 12.0, "seen": "2026-11-20T08:30",
        "details": "Deep\nand wide", "lane": "edge", "hazards": ["water", "bike"],
        "danger": "no"}
    found = client.get(f"{BASE}/requests/1.json?extensions=true").get_json()[0]
    public = {a["code"]: a for a in found["extended_attributes"]["attributes"]}
    assert public["hazards"]["value"] == ["water", "bike"]
    assert public["hazards"]["shown"] == "Standing water, Cycle lane"
    assert public["lane"]["description"] == "Where on the road?"
    assert "details" not in public  # staff only
    assert "extended_attributes" not in client.get(f"{BASE}/requests/1.json").get_json()[0]
    xml = ET.fromstring(client.get(f"{BASE}/requests.xml?extensions=true").data)
    codes = [a.find("code").text for a in xml.find("request/extended_attributes/attributes")]
    assert codes == ["pole", "depth", "seen", "lane", "hazards", "danger"]


@pytest.mark.parametrize("fmt", ["json", "xml"])
@pytest.mark.parametrize(("fields", "message"), [
    ({"attribute[depth]": ""},
     "attribute[depth]: How deep is it, in cm? — Answer this question: it is required."),
    ({"attribute[depth]": "ten"}, "attribute[depth]: How deep is it, in cm? — Enter a number"),
    ({"attribute[lane]": "shoulder"},
     "attribute[lane]: Where on the road? — 'shoulder' is not one of the answers"),
    ({"attribute[hazards][]": ["water", "fire"]}, "'fire' is not one of the answers"),
    ({"attribute[colour]": "red"}, "attribute[colour]: There is no question 'colour'"),
    ({"attribute[danger]": "yes"},
     "Call 911 now: this form is not watched around the clock."),
])
def test_a_wrong_or_blocking_answer_is_a_400_with_the_message_and_stores_nothing(
        asking, client, snapshot, fmt, fields, message):
    before = snapshot()
    response = post(client, fmt, **{**GOOD, **fields})
    assert response.status_code == 400
    if fmt == "json":
        description = response.get_json()[0]["description"]
    else:
        description = ET.fromstring(response.data).find("error/description").text
    assert message in description
    assert snapshot() == before


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    app = with_questions(make_app(tmp_path_factory.mktemp("questions311")))
    with LiveServer(app) as live:
        yield live


@pytest.mark.parametrize("output_format", ["json", "xml"])
def test_the_georeport_client_reads_the_definition(server, output_format):
    client = GeoReport(f"{server.url}{BASE}", jurisdiction="city.example",
                       output_format=output_format)
    services = client.get_service_list()
    pothole = next(s for s in services if s["service_code"] == "pothole")
    assert str(pothole["metadata"]).lower() == "true"
    definition = client.get_service_definition("pothole")
    attributes = definition["attributes"]
    attributes = attributes if output_format == "json" else attributes["attribute"]
    assert [a["code"] for a in attributes] == [q["code"] for q in EVERY_DATATYPE]
    hazards = attributes[5]
    values = hazards["values"] if output_format == "json" else hazards["values"]["value"]
    assert [v["key"] for v in values] == ["water", "glass", "bike"]
    assert str(attributes[1]["required"]).lower() == "true"


def test_a_plain_multipart_post_stores_single_and_multi_valued_answers(server):
    fields = [("api_key", OPEN311_KEY), ("service_code", "pothole"), ("lat", "0.5"),
              ("long", "0.5"), ("description", "Sent by a partner system"),
              ("attribute[depth]", "4.5"), ("attribute[lane]", "middle"),
              ("attribute[hazards][]", "glass"), ("attribute[hazards][]", "water")]
    response = requests.post(f"{server.url}{BASE}/requests.xml", timeout=30,
                             files=[(name, (None, value)) for name, value in fields])
    assert response.request.headers["Content-Type"].startswith("multipart/form-data")
    assert response.status_code == 200, response.text
    request_id = xmltodict.parse(response.content)["service_requests"]["request"][
        "service_request_id"]
    with server.app.app_context():
        answers = question_rows.report_answers(get_db(), int(request_id), public_only=True)
    assert [(a["code"], a["value"]) for a in answers] == [
        ("depth", 4.5), ("lane", "middle"), ("hazards", ["water", "glass"])]


FUZZ = settings(max_examples=120, deadline=None, suppress_health_check=list(HealthCheck))
ANSWER_TEXT = st.one_of(
    st.text(max_size=30), st.sampled_from(["", " ", "0", "-1e999", "nan", "1,5", "12",
                                           "2026-02-30T10:00", "2026-11-20T08:30",
                                           "9999-12-31T23:59+14:00", "edge", "water", "yes",
                                           "x" * 6000]))
ANSWERS = st.dictionaries(
    st.sampled_from([f"attribute[{q['code']}]" for q in EVERY_DATATYPE]
                    + ["attribute[hazards][]", "attribute[lane][]", "attribute[]",
                       "attribute[unknown]", "attribute[[x]]"]),
    st.lists(ANSWER_TEXT, min_size=1, max_size=3), max_size=6)


@pytest.fixture(scope="module")
def fuzz_app(tmp_path_factory):
    return with_questions(make_app(tmp_path_factory.mktemp("fuzzquestions")))


@FUZZ
@given(answers=ANSWERS, channel=st.sampled_from(["web", "open311"]))
def test_any_answers_are_stored_or_refused_with_a_4xx_that_stores_nothing(fuzz_app, answers,
                                                                         channel):
    client = fuzz_app.test_client()
    with fuzz_app.app_context():
        before = row_counts(get_db())
    if channel == "web":
        response = client.post("/report/new", data={
            "lon": "0.5", "lat": "0.5", "category": "pothole", "description": "Hole",
            **answers})
    else:
        response = post(client, **answers)
    with fuzz_app.app_context():
        after = row_counts(get_db())
    assert response.status_code < 500
    if response.status_code >= 400:
        assert after == before
    else:
        assert after["reports"] == before["reports"] + 1
