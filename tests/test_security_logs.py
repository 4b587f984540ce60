"""Issue 13, point 10: access logs keep no secrets, and Open311 keys never travel in URLs.

The production log is read from a real gunicorn started with gunicorn.conf.py on 127.0.0.1;
the development server's from werkzeug's logger. The language switcher, on a private page,
must not put that page's link in a URL either (a browser test clicks it through gunicorn).
"""

import logging
import re
from urllib.parse import quote

import pytest
import requests

from app.storage import apikeys, row_counts
from app.storage import reports as report_rows
from app.web.db import get_db
from app.web.serving_log import mask_url
from tests.live import Gunicorn, LiveServer, only_our_hosts
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
        *secret_links_in_queries(session, base, f"/reports/{report_id}/manage/{token}"),
    ]
    assert answers[0].status_code == 200 and answers[1].status_code == 200
    return answers


def secret_links_in_queries(session, base, private_path):
    """The old switcher's link (``?next=`` the page's path), plain, percent-encoded and
    encoded twice, in the URL and in the Referer of the next request."""
    nexts = [private_path, quote(private_path, safe=""), quote(quote(private_path, safe=""))]
    answers = []
    for value in nexts:
        url = f"{base}/language/fr?next={value}"
        answers.append(session.get(url, allow_redirects=False, timeout=30))
        answers.append(session.get(f"{base}/map", headers={"Referer": url}, timeout=30))
    assert {answer.status_code for answer in answers} == {200, 303}
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
    assert f"/language/fr?next=/reports/{report_id}/manage/[masked] HTTP/1.1" in log
    assert f'"http://127.0.0.1:{server.url.rsplit(":", 1)[1]}/language/fr?next=' \
           f'/reports/{report_id}/manage/[masked]"' in log, "the Referer is masked too"
    assert log.startswith("127.0.0.1 "), "the client address is kept for abuse handling"


def test_development_server_log_masks_tokens(secrets_app, caplog):
    app, report_id, token = secrets_app
    caplog.set_level(logging.INFO, logger="werkzeug")
    with LiveServer(app) as server:
        secret_requests(server.url, report_id, token)
    log = caplog.text
    assert_masked(log)
    assert token not in log


def test_every_url_with_a_token_is_masked(app):
    """A route added with a secret ``<token>`` (a support confirmation, say) must have its
    segment in serving_log.SECRET_AFTER, or its links would reach the logs."""
    adapter = app.url_map.bind("city.example")
    secret = "Secret-Token_123"
    rules = [rule for rule in app.url_map.iter_rules() if "token" in rule.arguments]
    assert {"reports.manage_report", "reports.confirm_subscription"} <= {
        rule.endpoint for rule in rules}
    for rule in rules:
        values = {name: {"token": secret, "fmt": "json"}.get(name, 7) for name in rule.arguments}
        path = adapter.build(rule.endpoint, values, method=next(iter(rule.methods)))
        for url in (path, f"/language/fr?next={path}", f"/x?next={quote(path, safe='')}",
                    f"https://city.example{path}?a=1"):
            assert secret not in mask_url(url), (rule.rule, mask_url(url))


@pytest.mark.browser
def test_switching_language_on_a_private_page_keeps_its_link_out_of_the_log(
        secrets_app, browser, tmp_path):
    """The resident stays on their page, in French; no line of the log holds the token, not
    even in a Referer when they then follow a link."""
    _app, report_id, token = secrets_app
    log_file = tmp_path / "access.log"
    private = f"/reports/{report_id}/manage/{token}"
    with Gunicorn(secrets_app[0], tmp_path, ["--access-logfile", str(log_file)]) as server:
        context = browser.new_context(base_url=server.url)
        context.route(re.compile(".*"), only_our_hosts())
        page = context.new_page()
        page.goto(private)
        urls = page.eval_on_selector_all("a[href], form[action]",
                                         "nodes => nodes.map(n => n.href || n.action)")
        assert [url for url in urls if token in url.partition("?")[2]] == []
        page.get_by_role("button", name="Français").click()
        page.wait_for_url(f"{server.url}{private}")
        assert page.get_attribute("html", "lang") == "fr"
        page.get_by_role("link", name="Carte").click()
        page.wait_for_url(f"{server.url}/map")
        context.close()
    log = log_file.read_text()
    assert "POST /language/fr HTTP/1.1\" 303" in log and "GET /map HTTP/1.1\" 200" in log
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
