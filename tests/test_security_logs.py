"""Issue 13, point 10: access logs keep no secrets, and Open311 keys never travel in URLs.

The production log is read from a real gunicorn started with gunicorn.conf.py on 127.0.0.1;
the development server's from werkzeug's logger.
"""

import logging

import pytest
import requests

from app.db import get_db
from app.storage import apikeys, row_counts
from app.storage import reports as report_rows
from tests.live import Gunicorn, LiveServer
from tests.test_open_data import add

KEY = "open311-key-that-must-stay-secret"
AGENT = "Fingerprintable-Agent/9.9"


@pytest.fixture
def secrets_app(app, client):
    """A report with its manage token, and an Open311 key."""
    report_id = add(client)
    with app.app_context():
        apikeys.create_key(get_db(), "partner", KEY)
        token = report_rows.report_token(get_db(), report_id)
    return app, report_id, token


def secret_requests(base, report_id, token):
    """What a resident's browser and an Open311 client send, secrets included."""
    manage = f"{base}/reports/{report_id}/manage/{token}"
    headers = {"User-Agent": AGENT, "Referer": manage}
    session = requests.Session()
    answers = [
        session.get(manage, headers=headers, timeout=30),
        session.get(f"{base}/reports/{report_id}/m%61nage/{token}", headers=headers, timeout=30),
        session.get(f"{base}/open311/v2/servicerequestupdates.json?api_key={KEY}&x=1",
                    headers=headers, timeout=30),
        session.get(f"{base}/open311/v2/tokens/{token}.json", headers=headers, timeout=30),
        session.get(f"{base}/reports?token={token}", headers=headers, timeout=30),
    ]
    assert answers[0].status_code == 200 and answers[1].status_code == 200
    return answers


def assert_masked(log):
    assert log.strip(), "the access log is empty"
    assert "[masked]" in log
    for secret in ("open311-key", "must-stay-secret", AGENT):
        assert secret not in log


def test_gunicorn_access_log_masks_tokens_and_keys(secrets_app, tmp_path):
    app, report_id, token = secrets_app
    log_file = tmp_path / "access.log"
    with Gunicorn(app, tmp_path, ["--access-logfile", str(log_file)]) as server:
        secret_requests(server.url, report_id, token)
    log = log_file.read_text()
    assert_masked(log)
    assert token not in log
    assert f'"GET /reports/{report_id}/manage/[masked] HTTP/1.1" 200' in log
    assert "api_key=[masked]&x=1" in log
    assert "/open311/v2/tokens/[masked].json" in log
    assert log.startswith("127.0.0.1 "), "the client address is kept for abuse handling"


def test_development_server_log_masks_tokens(secrets_app, caplog):
    app, report_id, token = secrets_app
    caplog.set_level(logging.INFO, logger="werkzeug")
    with LiveServer(app) as server:
        secret_requests(server.url, report_id, token)
    log = caplog.text
    assert_masked(log)
    assert token not in log


@pytest.mark.parametrize("fmt", ["json", "xml"])
def test_open311_key_in_the_url_of_a_post_is_refused_and_nothing_stored(
        secrets_app, client, snapshot, fmt):
    before = snapshot()
    fields = {"service_code": "pothole", "lat": "0.5", "long": "0.5",
              "description": "Key in the URL", "api_key": KEY}
    response = client.post(f"/open311/v2/requests.{fmt}?api_key={KEY}", data=fields)
    assert response.status_code == 400
    body = response.get_data(as_text=True)
    assert "api_key must be sent in the request body, not in the URL" in body
    assert ("<errors><error><code>400</code>" in body if fmt == "xml"
            else response.get_json()[0]["code"] == 400)
    assert snapshot() == before
    accepted = client.post(f"/open311/v2/requests.{fmt}", data=fields)
    assert accepted.status_code == 200
    with secrets_app[0].app_context():
        assert row_counts(get_db())["reports"] == before[0]["reports"] + 1


def test_open311_documents_say_the_key_goes_in_the_body(client):
    discovery = client.get("/open311/v2/discovery.json").get_json()
    assert "never in the URL" in discovery["key_service"]
    post = client.get("/open311/v2/openapi.json").get_json()["paths"]["/requests.json"]["post"]
    assert "api_key" not in {p["name"] for p in post.get("parameters", [])}
    schema = post["requestBody"]["content"]["application/x-www-form-urlencoded"]["schema"]
    assert "in the URL gets 400" in schema["properties"]["api_key"]["description"]
