"""Issue 13, points 20 and 21: the Open311 token opens nothing, and servicerequestupdates is
indexed and rate limited."""

import xml.etree.ElementTree as ET

import pytest

from app.dispatch.workflow import set_hidden
from app.storage import open311 as open311_rows
from app.storage import reports as report_rows
from app.storage import row_counts
from app.web.db import get_db
from tests.factories import make_app
from tests.test_open311 import BASE


def create(client, key, fmt="json"):
    response = client.post(f"{BASE}/requests.{fmt}", data={
        "api_key": key, "service_code": "pothole", "lat": "0.5", "long": "0.5",
        "description": "Hole", "email": "ann@example.org"})
    assert response.status_code == 200, response.data
    if fmt == "json":
        (item,) = response.get_json()
        return int(item["service_request_id"]), item["token"]
    created = ET.fromstring(response.data)
    return int(created.findtext("request/service_request_id")), created.findtext("request/token")


def manage_token(app, report_id):
    with app.app_context():
        return report_rows.report_token(get_db(), report_id)


@pytest.mark.parametrize("fmt", ["json", "xml"])
def test_the_answered_token_does_not_open_the_manage_page(app, client, key, fmt):
    """The attack: take the token a POST answers and use it as the reporter's private link."""
    report_id, token = create(client, key, fmt)
    secret = manage_token(app, report_id)
    assert token and token != secret
    assert client.get(f"/reports/{report_id}/manage/{token}").status_code == 404
    forged = client.post(f"/reports/{report_id}/manage/{token}/fixed", data={"note": "no"})
    assert forged.status_code == 404
    assert client.get(f"/reports/{report_id}/manage/{secret}").status_code == 200
    with app.app_context():
        assert report_rows.public_report(get_db(), report_id)["status"] == "new"


@pytest.mark.parametrize("fmt", ["json", "xml"])
def test_tokens_lookup_finds_the_id_from_the_request_token_only(app, client, key, fmt):
    report_id, token = create(client, key)
    found = client.get(f"{BASE}/tokens/{token}.{fmt}")
    assert found.status_code == 200
    if fmt == "json":
        assert found.get_json() == [{"service_request_id": str(report_id), "token": token}]
    else:
        assert ET.fromstring(found.data).findtext("request/service_request_id") == str(report_id)
    assert manage_token(app, report_id).encode() not in found.data
    by_secret = client.get(f"{BASE}/tokens/{manage_token(app, report_id)}.{fmt}")
    assert by_secret.status_code == 404


def test_web_reports_have_no_request_token(app, client, key):
    client.post("/report/new", data={"lon": "0.5", "lat": "0.5", "category": "pothole",
                                     "description": "Hole"})
    with app.app_context():
        assert [r["request_token"] for r in get_db().query("SELECT request_token "
                                                             "FROM reports")] == [None]


def test_tokens_lookup_hides_a_hidden_request(app, client, key):
    report_id, token = create(client, key)
    with app.app_context():
        set_hidden(get_db(), report_id, "moderator", True, "Personal data")
    assert client.get(f"{BASE}/tokens/{token}.json").status_code == 404


@pytest.mark.only_engine("sqlite", reason="reads SQLite's EXPLAIN QUERY PLAN; PostgreSQL "
                                          "has the same index (m009 twin) and plans by its "
                                          "statistics")
def test_servicerequestupdates_reads_the_time_index_without_sorting(db):
    """The plan, not a timing: a search on the event-time index, rows already in order."""
    plan = [row[3] for row in db.execute(f"EXPLAIN QUERY PLAN {open311_rows.STATUS_UPDATES_SQL}",
                                         ["2026-01-01", "2026-02-01", 1000])]
    assert any(step.startswith("SEARCH e USING INDEX report_events_at") for step in plan), plan
    assert not any("TEMP B-TREE" in step or step.startswith("SCAN") for step in plan), plan


def test_servicerequestupdates_answers_in_order_through_the_index(app, client, key):
    first, _ = create(client, key)
    second, _ = create(client, key)
    updates = client.get(f"{BASE}/servicerequestupdates.json").get_json()
    assert [u["service_request_id"] for u in updates] == [str(first), str(second)]


def test_servicerequestupdates_is_rate_limited(tmp_path):
    app = make_app(tmp_path, RATE_LIMITS_ON=True, OPEN311_UPDATES_RATE_LIMIT="2 per minute")
    client = app.test_client()
    with app.app_context():
        before = row_counts(get_db())
    answers = [client.get(f"{BASE}/servicerequestupdates.{fmt}")
               for fmt in ("json", "xml", "json", "xml")]
    assert [a.status_code for a in answers] == [200, 200, 429, 429]
    (error,) = answers[2].get_json()
    assert error["code"] == 429 and error["description"]
    assert ET.fromstring(answers[3].data).findtext("error/code") == "429"
    assert client.get(f"{BASE}/services.json").status_code == 200
    with app.app_context():
        assert row_counts(get_db()) == before
