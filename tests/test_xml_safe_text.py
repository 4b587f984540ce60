"""Text XML 1.0 cannot carry is refused in every channel, and dropped from every feed.

One control character in a description used to make requests.xml, servicerequestupdates.xml
and /reports.atom ill-formed for every client from then on.
"""

import json
import xml.etree.ElementTree as ET

import pytest
from hypothesis import given
from hypothesis import strategies as st

from app.dispatch import outside_updates
from app.errors import ValidationError
from app.fields import check_xml_safe, xml_safe, xml_unsafe_character
from app.web.db import get_db
from tests import engines
from tests.factories import OPEN311_KEY
from tests.test_report_flow import post
from tests.test_reporter_link import create as create_with_link

BAD = ["\x0b", "\x0c", "\x1b", "\x00", "\x08", "\ufffe"]
OPEN311 = {"api_key": OPEN311_KEY, "service_code": "pothole", "lat": "0.5", "long": "0.5",
           "description": "Hole"}


def open311_post(client, path="requests.xml", **fields):
    return client.post(f"/open311/v2/{path}", data={**OPEN311, **fields})


@pytest.mark.parametrize("char", BAD)
@pytest.mark.parametrize("field", ["description", "name"])
def test_the_web_form_refuses_it_and_stores_nothing(client, snapshot, char, field):
    before = snapshot()
    response = post(client, **{field: f"Deep{char}hole"})
    assert response.status_code == 400
    assert f"U+{ord(char):04X}" in response.get_data(as_text=True)
    assert snapshot() == before


@pytest.mark.parametrize("char", BAD)
@pytest.mark.parametrize("field", ["description", "first_name", "address_string", "device_id",
                                   "media_url"])
def test_open311_refuses_it_with_an_xml_error(client, key, snapshot, char, field):
    before = snapshot()
    response = open311_post(client, **{field: f"https://x.example/a{char}b"})
    assert response.status_code == 400
    error = ET.fromstring(response.data)
    assert error.findtext("error/code") == "400"
    assert field in error.findtext("error/description")
    assert snapshot() == before


def test_a_json_body_with_a_lone_surrogate_is_refused(client, snapshot):
    before = snapshot()
    response = client.post("/api/photo-position", data='{"note": "a\\ud800b"}',
                           content_type="application/json")
    assert response.status_code == 400 and "U+D800" in response.get_json()["error"]["message"]
    assert snapshot() == before


def test_the_reporters_update_and_the_staff_note_refuse_it(client, auth, snapshot):
    report_id, link = create_with_link(client)
    before = snapshot()
    assert client.post(f"{link}/update", data={"text": "Still\x0bthere"}).status_code == 400
    auth.login()
    refused = client.post(f"/dispatch/reports/{report_id}/status",
                          data={"status": "in_progress", "public_note": "Crew\x1bbooked"})
    assert refused.status_code == 400
    assert snapshot() == before


def test_a_partners_update_refuses_it(client, key, snapshot):
    report_id = open311_post(client, path="requests.json").get_json()[0]["service_request_id"]
    before = snapshot()
    response = open311_post(client, path="servicerequestupdates.xml",
                            service_request_id=report_id, update_id="u1", status="FIXED",
                            description="Done\x0c")
    assert response.status_code == 400
    assert snapshot() == before


def test_the_cli_refuses_it_in_names_and_key_names(runner, snapshot):
    before = snapshot()
    result = runner.invoke(args=["names", "translate", "category", "pothole", "fr", "Nid\x0b"])
    assert result.exit_code != 0 and "U+000B" in result.output
    result = runner.invoke(args=["apikeys", "create", "Partner\x1b"])
    assert result.exit_code != 0 and "U+001B" in result.output
    assert snapshot() == before


def test_a_boundary_file_with_such_a_name_is_refused(runner, tmp_path, snapshot):
    geojson = {"type": "FeatureCollection", "features": [{
        "type": "Feature", "properties": {"name": "Ward\x0b1"},
        "geometry": {"type": "Polygon",
                     "coordinates": [[[0, 0], [1, 0], [1, 1], [0, 1], [0, 0]]]}}]}
    path = tmp_path / "wards.geojson"
    path.write_text(json.dumps(geojson))
    before = snapshot()
    result = runner.invoke(args=["areas", "load", str(path), "--service", "roads",
                                 "--categories", "pothole"])
    assert result.exit_code != 0 and "U+000B" in result.output
    assert snapshot() == before


def store_bad_text_directly(app, client):
    """A database written before input was checked: a description and a public note."""
    report_id = int(post(client).headers["Location"].rsplit("/", 1)[1])
    with app.app_context():
        db = get_db()
        db.execute("UPDATE reports SET description = ? WHERE id = ?",
                   ["Hole\x0b\x0c\x1b here", report_id])
        outside_updates.record(db, "test", outside_updates.OutsideUpdate(
            "u1", report_id, "in_progress", "Crew ok"), "tests")
        nul = "" if engines.current.factory else "\x00"  # PostgreSQL text holds no NUL
        db.execute("UPDATE report_events SET public_note = ? WHERE public_note = 'Crew ok'",
                   [f"Crew\x1b booked\x07{nul}"])
    return report_id


def test_feeds_stay_well_formed_over_stored_control_characters(app, client):
    report_id = store_bad_text_directly(app, client)
    for path in ["/open311/v2/requests.xml", f"/open311/v2/requests/{report_id}.xml",
                 "/open311/v2/requests.xml?extensions=true",
                 "/open311/v2/servicerequestupdates.xml", "/reports.atom",
                 f"/reports/{report_id}/history.atom"]:
        response = client.get(path)
        assert response.status_code == 200, path
        document = ET.fromstring(response.data)  # raises on an ill-formed document
        text = "".join(document.itertext())
        assert "Hole here" in text or "Crew booked" in text, path
    requests = client.get("/open311/v2/requests.json").get_json()
    assert requests[0]["description"] == "Hole\x0b\x0c\x1b here"  # JSON escapes them


@given(st.text())
def test_what_xml_safe_leaves_always_parses(text):
    element = ET.Element("t")
    element.text = xml_safe(text)
    ET.fromstring(ET.tostring(element, encoding="unicode"))  # raises on an ill-formed one
    assert (xml_unsafe_character(text) is None) == (xml_safe(text) == text)


@given(st.text())
def test_check_xml_safe_keeps_what_it_accepts_and_refuses_the_rest(text):
    if xml_unsafe_character(text) is None:
        assert check_xml_safe(text, "field") == text
    else:
        with pytest.raises(ValidationError):
            check_xml_safe(text, "field")
