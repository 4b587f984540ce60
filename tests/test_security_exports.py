"""Issue 13, point 3: exports cannot exhaust the server.

The full exports are files regenerated in the background and served with ETag and
Last-Modified; filtered exports, which still read the database per request, are rate limited
and bounded in concurrency per worker.
"""

import os

import pytest
import requests

from app.reporting import exports
from app.web.open_data import export_slots
from tests.factories import make_app
from tests.live import Gunicorn
from tests.test_open_data import add

FULL_EXPORTS = [("/api/reports.csv", "csv"), ("/api/reports.geojson?download=1", "geojson")]


def refresh(runner):
    result = runner.invoke(args=["exports", "refresh"])
    assert result.exit_code == 0, result.output
    return result.output


@pytest.mark.parametrize(("url", "fmt"), FULL_EXPORTS)
def test_full_export_is_the_published_file_not_a_database_read(app, client, runner, url, fmt):
    add(client, description="First pothole")
    first = client.get(url)
    assert first.status_code == 200
    assert first.headers["ETag"] and first.headers["Last-Modified"]
    assert first.headers["Content-Disposition"].startswith("attachment; filename=")
    assert first.data == exports.export_path(app, fmt).read_bytes()
    assert b"First pothole" in first.data

    add(client, description="Second pothole")
    cached = client.get(url)
    assert cached.data == first.data, "a fresh file is served, whatever the database holds"
    assert b"Second pothole" not in cached.data

    assert "Wrote" in refresh(runner)
    refreshed = client.get(url)
    assert b"Second pothole" in refreshed.data
    assert refreshed.headers["ETag"] != first.headers["ETag"]


@pytest.mark.parametrize(("url", "fmt"), FULL_EXPORTS)
def test_unchanged_export_answers_304_to_a_conditional_request(client, url, fmt):
    add(client)
    first = client.get(url)
    again = client.get(url, headers={"If-None-Match": first.headers["ETag"]})
    assert again.status_code == 304 and again.data == b""
    since = client.get(url, headers={"If-Modified-Since": first.headers["Last-Modified"]})
    assert since.status_code == 304
    other = client.get(url, headers={"If-None-Match": '"not-the-etag"'})
    assert other.status_code == 200 and other.data == first.data


def test_cache_busting_arguments_still_get_the_file(app, client):
    add(client, description="Before")
    client.get("/api/reports.csv")
    add(client, description="After")
    for url in ("/api/reports.csv?nocache=123", "/api/reports.csv?status=&bbox=",
                "/api/reports.geojson?download=1&_=9"):
        assert b"After" not in client.get(url).data, url


def test_a_stale_file_is_regenerated_by_the_request_that_finds_it(app, client):
    add(client, description="Old news")
    client.get("/api/reports.csv")
    add(client, description="Fresh news")
    path = exports.export_path(app, "csv")
    hours_ago = path.stat().st_mtime - 2 * app.config["EXPORT_MAX_AGE_SECONDS"]
    os.utime(path, (hours_ago, hours_ago))
    assert b"Fresh news" in client.get("/api/reports.csv").data


def test_a_withdrawal_makes_the_published_file_stale_at_once(app, client, runner):
    add(client, name="Shown Person", show_name="yes", email="shown@example.org")
    assert b"Shown Person" in client.get("/api/reports.csv").data
    erased = runner.invoke(args=["privacy", "erase", "--email", "shown@example.org"])
    assert erased.exit_code == 0, erased.output
    for url, _fmt in FULL_EXPORTS:
        assert b"Shown Person" not in client.get(url).data, url


def test_while_another_process_regenerates_clients_get_the_previous_file(app, client):
    add(client, description="Old news")
    previous = client.get("/api/reports.csv").data
    add(client, description="Fresh news")
    path = exports.export_path(app, "csv")
    os.utime(path, (0, 0))
    with exports.regeneration_lock(app, wait=True) as locked:
        assert locked
        assert client.get("/api/reports.csv").data == previous
        path.unlink()
        busy = client.get("/api/reports.csv")
    assert busy.status_code == 503
    assert busy.headers["Retry-After"] == "30"
    assert "being prepared" in busy.get_json()["error"]["message"]
    assert b"Fresh news" in client.get("/api/reports.csv").data


def test_refresh_if_stale_leaves_fresh_files_alone(app, client, runner):
    add(client)
    refresh(runner)
    result = runner.invoke(args=["exports", "refresh", "--if-stale"])
    assert "up to date" in result.output


@pytest.fixture
def limited(tmp_path):
    return make_app(tmp_path, RATE_LIMITS_ON=True, EXPORT_RATE_LIMIT="2 per hour")


def test_filtered_exports_over_the_limit_get_429(limited):
    client = limited.test_client()
    add(client)
    for url in ("/api/reports.csv?status=new", "/api/reports.geojson?download=1&service=roads"):
        assert client.get(url).status_code == 200, url
    over = client.get("/api/reports.csv?category=pothole")
    assert over.status_code == 429
    assert "Too many requests" in over.get_json()["error"]["message"]
    for url, _fmt in FULL_EXPORTS:
        assert client.get(url).status_code == 200, "the published files are not counted"
    assert client.get("/api/reports.geojson?bbox=0,0,1,1").status_code == 200, "the map is not"


@pytest.mark.parametrize("url", ["/api/reports.csv?status=new", "/api/reports.csv"])
def test_exports_past_the_worker_bound_get_503(app, client, url):
    """A download holds its thread until its last byte: a client that stops reading must
    not hold every thread, whether it asked for the published file or a filter."""
    add(client)
    with app.app_context():
        slots = export_slots()
    held = 0
    while slots.acquire(blocking=False):
        held += 1
    assert held == app.config["EXPORT_CONCURRENCY"]
    try:
        busy = client.get(url)
        assert busy.status_code == 503
        assert busy.headers["Retry-After"] == "30"
        assert "Too many exports" in busy.get_json()["error"]["message"]
        assert client.get("/api/reports.geojson?bbox=0,0,1,1").status_code == 200, "the map is"
    finally:
        for _ in range(held):
            slots.release()
    for _ in range(held + 1):
        response = client.get(url)
        assert response.status_code == 200
        response.close()  # as a WSGI server does at the end of the body: frees the slot


def test_full_export_files_are_written_beside_the_database_only(app, client):
    add(client)
    client.get("/api/reports.csv")
    folder = exports.folder_of(app)
    assert sorted(p.name for p in folder.iterdir() if not p.name.startswith(".")) == [
        "reports.csv", "reports.geojson"]
    assert not [p for p in folder.iterdir() if p.name.endswith(".partial")]


def test_a_real_server_frees_the_export_slot_after_each_download(app, client, tmp_path):
    """gunicorn closes each answer; a slot left taken would make the next download a 503."""
    add(client)
    # One thread: it closes each answer (freeing the slot) before it takes the next request.
    with Gunicorn(app, tmp_path, ["--threads", "1"], EXPORT_CONCURRENCY=1) as server:
        for url in ["/api/reports.csv", "/api/reports.geojson?download=1",
                    "/api/reports.csv?status=new"] * 2:
            response = requests.get(server.url + url, timeout=60)
            assert response.status_code == 200, (url, response.text)
