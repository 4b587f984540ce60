"""Backup and restore, photo clean-up, privacy erasure and retention, and a privacy sweep of
every public response."""

import re
import threading

import pytest

from app import create_app
from app.storage import row_counts
from app.web.db import get_db
from tests import engines
from tests.factories import jpeg_bytes, make_app
from tests.test_report_flow import post

SECRET_EMAIL = "private.person@example.org"
HIDDEN_NAME = "Hidden Reporter Name"


def add_with_photo(client, **fields):
    response = post(client, photos=[("p.jpg", jpeg_bytes(color=(len(fields), 5, 5)))], **fields)
    assert response.status_code == 303
    return int(response.headers["Location"].rsplit("/", 1)[1])


def restored_app(tmp_path, backup):
    """A new instance (its database empty, on the run's engine) with ``backup`` restored."""
    fresh = create_app({"TESTING": True, "SECRET_KEY": "t", "WTF_CSRF_ENABLED": False,
                        **engines.current.config(tmp_path, "restored.sqlite3", migrated=False),
                        "PHOTO_STORE": str(tmp_path / "restored-photos")})
    restored = fresh.test_cli_runner().invoke(args=["restore", str(backup)])
    assert restored.exit_code == 0, restored.output
    return fresh


def test_backup_and_restore_round_trip(app, client, runner, tmp_path):
    add_with_photo(client)
    add_with_photo(client, description="Second", email=SECRET_EMAIL)
    result = runner.invoke(args=["backup", str(tmp_path / "backup")])
    assert result.exit_code == 0, result.output
    assert "and 4 photo file(s)" in result.output
    again = runner.invoke(args=["backup", str(tmp_path / "backup")])
    assert again.exit_code != 0 and "already exists" in again.output

    fresh = restored_app(tmp_path, tmp_path / "backup")
    with app.app_context():
        original = row_counts(get_db())
    with fresh.app_context():
        assert row_counts(get_db()) == original
    fresh_client = fresh.test_client()
    page = fresh_client.get("/reports/2").get_data(as_text=True)
    photo = re.search(r'src="(/photos/[^"]+)"', page).group(1)
    served = fresh_client.get(photo)
    served.close()
    assert served.status_code == 200
    refused = fresh.test_cli_runner().invoke(args=["restore", str(tmp_path / "backup")])
    assert refused.exit_code != 0 and "pass --force" in refused.output
    replaced = fresh.test_cli_runner().invoke(args=["restore", "--force",
                                                    str(tmp_path / "backup")])
    assert replaced.exit_code == 0, replaced.output
    with fresh.app_context():
        assert row_counts(get_db()) == original
    assert "Second" in fresh.test_client().get("/reports/2").get_data(as_text=True)


def test_a_backup_of_the_other_engine_is_refused_with_the_way_out(runner, tmp_path):
    """A SQLite backup cannot be restored into PostgreSQL (nor the reverse): the message
    says so, and nothing is touched."""
    other = {"sqlite": "civic.pgdump", "postgresql": "civic.sqlite3"}[engines.current.name]
    (tmp_path / "other").mkdir()
    (tmp_path / "other" / other).write_bytes(b"not for this engine")
    result = runner.invoke(args=["restore", "--force", str(tmp_path / "other")])
    assert result.exit_code != 0
    assert "is a backup of a" in result.output and "instance runs on" in result.output
    assert "holds no" in runner.invoke(args=["restore", str(tmp_path)]).output


def test_backup_while_reports_are_written_is_consistent(app, client, runner, tmp_path):
    add_with_photo(client)
    stop = threading.Event()

    def keep_writing():
        writer = app.test_client()
        while not stop.is_set():
            post(writer)

    thread = threading.Thread(target=keep_writing)
    thread.start()
    try:
        result = runner.invoke(args=["backup", str(tmp_path / "live")])
    finally:
        stop.set()
        thread.join()
    assert result.exit_code == 0, result.output
    with restored_app(tmp_path, tmp_path / "live").app_context():
        copy = get_db()
        reports = copy.execute("SELECT count(*) FROM reports").fetchone()[0]
        events = copy.execute("SELECT count(DISTINCT report_id) FROM report_events"
                              ).fetchone()[0]
    assert reports >= 1 and events == reports


def test_photos_gc_removes_orphans_only(app, client, runner, tmp_path):
    add_with_photo(client)
    orphan_dir = tmp_path / "photos" / "ab"
    orphan_dir.mkdir(parents=True, exist_ok=True)
    (orphan_dir / ("ab" + "0" * 62 + ".jpg")).write_bytes(b"left behind")
    dry = runner.invoke(args=["photos", "gc", "--dry-run"])
    assert "1 orphan photo file(s) would remove" in dry.output
    assert runner.invoke(args=["photos", "gc"]).exit_code == 0
    assert not (orphan_dir / ("ab" + "0" * 62 + ".jpg")).exists()
    assert len(list((tmp_path / "photos").rglob("*.jpg"))) == 2


def test_privacy_erase_keeps_reports_anonymous_and_logs(app, client, runner):
    first = add_with_photo(client, email=SECRET_EMAIL, name=HIDDEN_NAME)
    add_with_photo(client, email="other@example.org")
    result = runner.invoke(args=["privacy", "erase", "--email", SECRET_EMAIL.upper()])
    assert "from 1 report(s)" in result.output
    with app.app_context():
        db = get_db()
        row = db.execute("SELECT reporter_email, reporter_name FROM reports WHERE id = ?",
                         [first]).fetchone()
        assert tuple(row) == (None, None)
        assert db.execute("SELECT count(*) FROM reports").fetchone()[0] == 2
        assert db.execute("SELECT count(*) FROM report_events WHERE kind = 'contact_erased'"
                          ).fetchone()[0] == 1
        assert db.execute("SELECT count(*) FROM reports WHERE reporter_email IS NOT NULL"
                          ).fetchone()[0] == 1


def test_retention_anonymises_old_contact_data(app, client, runner):
    old = add_with_photo(client, email=SECRET_EMAIL)
    add_with_photo(client, email="recent@example.org")
    runner.invoke(args=["outbox", "send"])  # private links, failing: no mail server
    with app.app_context():
        db = get_db()
        db.execute("UPDATE reports SET created_at = '2020-01-01T00:00:00+00:00' "
                   "WHERE id = ?", [old])
        db.execute("UPDATE outbox SET state = 'failed', created_at = "
                   "'2020-01-01T00:00:00+00:00' WHERE recipient = ?", [SECRET_EMAIL])
    result = runner.invoke(args=["privacy", "retention"])
    assert ("Anonymised 1 report(s) older than 24 month(s); deleted 1 sent or failed outbox "
            "message(s)") in result.output
    with app.app_context():
        assert [r[0] for r in get_db().execute("SELECT recipient FROM outbox")] == [
            "recent@example.org"]
    app.config["CONTACT_RETENTION_MONTHS"] = 0
    assert "Anonymised 0" in runner.invoke(args=["privacy", "retention"]).output


@pytest.fixture
def seeded_public_client(tmp_path):
    app = make_app(tmp_path)
    client = app.test_client()
    post(client, email=SECRET_EMAIL, name=HIDDEN_NAME, phone="+1 555 0100")
    post(client, lon="1.5", category="streetlight", email=SECRET_EMAIL, name="Shown Name",
         show_name="yes")
    return app, client


QUERIES = {"/api/reports/nearby": "?lon=0.5&lat=0.5&category=pothole",
           "/api/places": "?q=Main", "/api/places/reverse": "?lon=0.5&lat=0.5"}
#: Sample values that name nothing: their routes answer 404, and must still leak nothing.
MISSING = {"/photos/x.jpg", "/api/photos/x/thumbnail", "/open311/v2/tokens/x.json",
           "/open311/v2/tokens/x.xml"}


def public_get_urls(app):
    """Every public GET route with sample values (staff and login routes excluded)."""
    samples = {"report_id": "1", "name": "x.jpg", "service_code": "pothole",
               "service_request_id": "1", "token": "x", "fmt": "json", "package": "leaflet",
               "version": "1.9.3", "filename": "leaflet.css", "code": "fr", "photo_id": "x",
               "area_id": "1", "size": "192"}
    for rule in app.url_map.iter_rules():
        private = ("/manage/" in rule.rule
                   or rule.rule.startswith(("/dispatch", "/login", "/static", "/alerts/<",
                                                    "/supports/<")))
        if "GET" not in rule.methods or private:
            continue
        url = re.sub(r"<(?:[^:>]+:)?(\w+)>", lambda m: samples[m.group(1)], rule.rule)
        yield url + QUERIES.get(url, "")


def test_no_public_response_contains_contact_data(seeded_public_client):
    app, client = seeded_public_client
    urls = list(public_get_urls(app))
    urls += [u.replace(".json", ".xml") for u in urls
             if u.startswith("/open311/") and u.endswith(".json") and "openapi" not in u]
    urls += ["/api/reports.geojson?download=1", "/api/reports.geojson?bbox=-1,-1,3,3",
             "/open311/v2/requests.json?extensions=true", "/reports/2"]
    assert len(urls) > 20 and not [u for u in urls if "<" in u]
    for url in urls:
        response = client.get(url)
        body = response.get_data().decode("utf-8", "replace")
        response.close()
        assert (response.status_code < 400) != (url in MISSING), (url, response.status_code)
        assert SECRET_EMAIL not in body, url
        assert HIDDEN_NAME not in body, url
        assert "555 0100" not in body, url
    assert "Shown Name" in client.get("/reports/2").get_data(as_text=True)
