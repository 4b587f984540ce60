"""Organisations' API keys have budgets of their own; every 429 says when to come back."""

import json
import subprocess
import sys
from pathlib import Path

import pytest

from app.storage import apikeys, row_counts
from app.web.db import get_db
from tests.factories import make_app
from tests.test_report_flow import post

ROOT = Path(__file__).resolve().parent.parent
PARTNER_KEY = "partner-key-0123456789"
SMALL_KEY = "small-partner-key-0123"


@pytest.fixture
def limited(tmp_path):
    """An app with rate limits on, the default per-IP budget (30 reports an hour) and two
    partner keys: one with the default budget, one with 5 an hour."""
    app = make_app(tmp_path, RATE_LIMITS_ON=True)
    with app.app_context():
        apikeys.create_key(get_db(), "Partner", PARTNER_KEY)
        apikeys.create_key(get_db(), "Small partner", SMALL_KEY, "5 per hour")
    return app


def keyed_post(client, key, fmt="json"):
    return client.post(f"/open311/v2/requests.{fmt}", data={
        "api_key": key, "service_code": "pothole", "lat": "0.5", "long": "0.5",
        "description": "Sent by the partner's server for a resident"})


def reports(app):
    with app.app_context():
        return row_counts(get_db())["reports"]


def assert_retry_after(response):
    assert response.status_code == 429
    assert 1 <= int(response.headers["Retry-After"]) <= 3601  # at most the hour window


def test_300_keyed_posts_pass_and_leave_the_residents_budget_whole(limited):
    client = limited.test_client()
    answers = [keyed_post(client, PARTNER_KEY).status_code for _ in range(300)]
    assert answers == [200] * 300
    assert [post(client).status_code for _ in range(30)] == [303] * 30
    refused = post(client)
    assert_retry_after(refused)
    assert reports(limited) == 330


def test_an_unkeyed_open311_post_counts_against_the_address(limited):
    client = limited.test_client()
    for _ in range(30):
        post(client)
    refused = client.post("/open311/v2/requests.xml", data={"service_code": "pothole"})
    assert_retry_after(refused)
    assert b"<errors>" in refused.data


@pytest.mark.parametrize("fmt", ["json", "xml"])
def test_a_keys_own_rate_is_its_limit_and_no_one_elses(limited, fmt):
    client = limited.test_client()
    assert [keyed_post(client, SMALL_KEY, fmt).status_code for _ in range(5)] == [200] * 5
    before = reports(limited)
    refused = keyed_post(client, SMALL_KEY, fmt)
    assert_retry_after(refused)
    assert reports(limited) == before
    assert keyed_post(client, PARTNER_KEY, fmt).status_code == 200
    assert post(client).status_code == 303


WORKER = """
import json, sys
from app import create_app
app = create_app({"TESTING": True, "SECRET_KEY": "t", "WTF_CSRF_ENABLED": False,
                  "DATABASE": sys.argv[1], "RATE_LIMIT_DATABASE": sys.argv[2],
                  "PHOTO_STORE": sys.argv[3], "DATABASE_URL": sys.argv[6]})
client = app.test_client()
print(json.dumps([client.post("/open311/v2/requests.json", data={
    "api_key": sys.argv[4], "service_code": "pothole", "lat": "0.5", "long": "0.5",
    "description": "From another worker"}).status_code for _ in range(int(sys.argv[5]))]))
"""


def posts_from_another_process(app, key, count):
    result = subprocess.run(
        [sys.executable, "-c", WORKER, app.config["DATABASE"], app.config["RATE_LIMIT_DATABASE"],
         app.config["PHOTO_STORE"], key, str(count), app.config.get("DATABASE_URL", "")],
        cwd=ROOT, capture_output=True, text=True, timeout=120, check=True)
    return json.loads(result.stdout.splitlines()[-1])


def test_a_keys_budget_is_shared_by_every_worker(limited):
    """Per-process counting would give each worker the key's 5 an hour."""
    assert posts_from_another_process(limited, SMALL_KEY, 3) == [200] * 3
    assert posts_from_another_process(limited, SMALL_KEY, 3) == [200, 200, 429]


def test_apikeys_create_takes_a_rate_and_refuses_a_bad_one(limited):
    runner = limited.test_cli_runner()
    result = runner.invoke(args=["apikeys", "create", "City council", "--rate", "600 per hour"])
    assert result.exit_code == 0, result.output
    with limited.app_context():
        row = apikeys.active_key(get_db(), result.output.strip())
    assert row["name"] == "City council" and row["rate"] == "600 per hour"
    refused = runner.invoke(args=["apikeys", "create", "Other", "--rate", "lots"])
    assert refused.exit_code != 0 and "not a rate" in refused.output


def test_every_429_carries_retry_after(limited):
    client = limited.test_client()
    limited.config["PHOTO_POSITION_RATE_LIMIT"] = "1 per hour"
    client.post("/api/photo-position")
    assert_retry_after(client.post("/api/photo-position"))
    limited.config["LOGIN_FAILURE_LIMIT"] = "1 per hour"
    client.post("/login", data={"email": "x@city.example", "password": "wrong password"})
    refused = client.post("/login", data={"email": "x@city.example", "password": "wrong"})
    assert_retry_after(refused)
