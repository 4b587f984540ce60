"""The dispatcher console: access rules, the workflow, moderation, bulk, export and stats."""

import csv
import io
import re

import pytest

from app import create_app
from app.dispatch import workflow
from app.dispatch.stats import summarise
from app.errors import ValidationError
from app.web.db import get_db
from tests.factories import without_random_values
from tests.test_report_flow import post

ROADS, LIGHTS, ADMIN = "roads@city.example", "lights@city.example", "admin@city.example"


def add(client, **fields):
    return int(post(client, **fields).headers["Location"].rsplit("/", 1)[1])


def dispatch_rules(app):
    """Every /dispatch URL rule with a sample URL and its method."""
    for rule in app.url_map.iter_rules():
        if rule.rule.startswith("/dispatch"):
            values = {"report_id": 1, "position": 0, "name": "x.jpg", "update_id": 1,
                      "template_id": 1}
            url = re.sub(r"<(?:[^:>]+:)?(\w+)>", lambda m, v=values: str(v.get(m.group(1), 1)),
                         rule.rule)
            method = "POST" if "POST" in rule.methods else "GET"
            yield pytest.param(url, method, id=f"{method} {rule.rule}")


RULES = list(dispatch_rules(create_app({"TESTING": True})))


def test_the_sweep_covers_the_console():
    assert len(RULES) >= 10


@pytest.mark.parametrize(("url", "method"), RULES)
def test_anonymous_users_are_sent_to_login(client, url, method):
    response = client.open(url, method=method)
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/login")


@pytest.mark.parametrize(("url", "method"), [r for r in RULES if "/reports/" in r.values[0]])
def test_another_services_report_is_answered_like_a_missing_one(client, auth, url, method):
    report_id = add(client, lon="1.5", category="streetlight")  # lights' report
    auth.login(ROADS)
    client.get("/")  # shows, and so clears, the reporter's flashed private link
    pages = []
    for target in (str(report_id), "999999"):
        response = client.open(url.replace("/reports/1", f"/reports/{target}"), method=method)
        assert response.status_code == 404
        page = without_random_values(response.get_data(as_text=True))
        pages.append(page.replace(f"/reports/{target}", "/reports/N"))
    assert pages[0] == pages[1]


def test_login_rejects_a_wrong_password_and_keeps_next_local(client, auth):
    assert auth.login(ROADS, "wrong").status_code == 401
    response = client.post("/login?next=https://evil.example/", data={
        "email": ROADS, "password": auth.PASSWORD})
    assert response.headers["Location"] == "/dispatch"
    auth.logout()
    assert client.get("/dispatch").status_code == 302


def test_queue_shows_only_my_services_with_contact_in_the_report(client, auth):
    mine = add(client, description="Hole on Main", email="ada@example.org", name="Ada")
    theirs = add(client, lon="1.5", category="streetlight", description="Dark corner")
    auth.login(ROADS)
    queue = client.get("/dispatch").get_data(as_text=True)
    assert "Hole on Main" in queue and "Dark corner" not in queue
    assert "New: 1" in queue
    page = client.get(f"/dispatch/reports/{mine}").get_data(as_text=True)
    assert "ada@example.org" in page and "Ada" in page
    auth.logout()
    auth.login(ADMIN)
    assert "Dark corner" in client.get("/dispatch").get_data(as_text=True)
    assert client.get(f"/dispatch/reports/{theirs}").status_code == 200


def test_status_change_with_notes_shows_publicly_but_not_the_internal_note(client, auth):
    report_id = add(client)
    auth.login(ROADS)
    client.post(f"/dispatch/reports/{report_id}/status", data={
        "status": "in_progress", "public_note": "Crew booked for Monday.",
        "internal_note": "Needs the big roller."})
    public = client.get(f"/reports/{report_id}").get_data(as_text=True)
    assert "In progress" in public and "Crew booked for Monday." in public
    assert "big roller" not in public
    staff = client.get(f"/dispatch/reports/{report_id}").get_data(as_text=True)
    assert "Needs the big roller." in staff and "by roads@city.example" in staff


@pytest.mark.parametrize(("start", "target", "fields", "message"), [
    ("new", "new", {}, "cannot become new"),
    ("new", "closed", {}, "Say why"),
    ("new", "rejected", {}, "not your responsibility"),
    ("new", "duplicate", {}, "number of the original"),
    ("new", "duplicate", {"duplicate_of": "999"}, "no report number 999"),
    ("new", "lost", {}, "is not a status"),
    ("fixed", "duplicate", {"duplicate_of": "1"}, "cannot become duplicate"),
])
def test_invalid_transitions_are_refused(app, client, start, target, fields, message):
    report_id = add(client)
    with app.app_context():
        db = get_db()
        if start == "fixed":
            workflow.change_status(db, report_id, "t", workflow.StatusChange("fixed"))
        before = db.execute("SELECT count(*) FROM report_events").fetchone()[0]
        with pytest.raises(ValidationError, match=message):
            workflow.change_status(db, report_id, "t", workflow.StatusChange(target, **fields))
        assert db.execute("SELECT count(*) FROM report_events").fetchone()[0] == before
        assert db.execute("SELECT status FROM reports WHERE id = ?",
                          [report_id]).fetchone()[0] == start


def test_duplicates_link_both_ways(client, auth):
    original, copy = add(client), add(client)
    auth.login(ROADS)
    client.post(f"/dispatch/reports/{copy}/status",
                data={"status": "duplicate", "duplicate_of": str(original)})
    assert f'href="/reports/{original}"' in client.get(f"/reports/{copy}").get_data(as_text=True)
    assert f'href="/reports/{copy}"' in client.get(f"/reports/{original}").get_data(as_text=True)
    again = client.post(f"/dispatch/reports/{original}/status",
                        data={"status": "duplicate", "duplicate_of": str(copy)})
    assert again.status_code == 400 and "already a duplicate" in again.get_data(as_text=True)


def test_rejecting_with_a_service_reassigns_as_new(app, client, auth):
    report_id = add(client)
    auth.login(ROADS)
    client.post(f"/dispatch/reports/{report_id}/status",
                data={"status": "rejected", "reassign_to": "lights"})
    assert client.get(f"/dispatch/reports/{report_id}").status_code == 404
    auth.logout()
    auth.login(LIGHTS)
    page = client.get(f"/dispatch/reports/{report_id}").get_data(as_text=True)
    assert "Street lighting" in page and 'id="staff-status">New' in page


def test_reassign_needs_a_reason(client, auth):
    report_id = add(client)
    auth.login(ROADS)
    response = client.post(f"/dispatch/reports/{report_id}/reassign", data={"service": "lights"})
    assert response.status_code == 400 and "Say why" in response.get_data(as_text=True)
    switch_back_to = re.search(r'name="next" value="([^"]+)"', response.get_data(as_text=True))
    assert switch_back_to.group(1) == f"/dispatch/reports/{report_id}", "not the form's action"


def test_moderation_hides_from_public_keeps_for_staff_and_is_logged(client, auth):
    from tests.factories import jpeg_bytes

    report_id = int(post(client, photos=[("a.jpg", jpeg_bytes())],
                         description="Call 555 0100").headers["Location"].rsplit("/", 1)[1])
    public = client.get(f"/reports/{report_id}").get_data(as_text=True)
    photo_url = re.search(r'src="(/photos/[^"]+)"', public).group(1)
    auth.login(ROADS)
    client.post(f"/dispatch/reports/{report_id}/redact",
                data={"public_description": "Call [removed]"})
    client.post(f"/dispatch/reports/{report_id}/photos/0/visibility", data={"hidden": "1"})
    public = client.get(f"/reports/{report_id}").get_data(as_text=True)
    assert "Call [removed]" in public and "555 0100" not in public
    assert client.get(photo_url).status_code == 404
    assert "555 0100" not in client.get("/api/reports.csv").get_data(as_text=True)
    client.post(f"/dispatch/reports/{report_id}/visibility", data={"hidden": "1"})
    assert client.get(f"/reports/{report_id}").status_code == 404
    assert client.get("/api/reports.geojson?bbox=0,0,1,1").get_json()["features"] == []
    staff = client.get(f"/dispatch/reports/{report_id}").get_data(as_text=True)
    assert "Call 555 0100" in staff and "hidden from the public" in staff
    assert "Public text redacted" in staff and "Photo 1 hidden" in staff
    staff_photo = re.search(r'src="(/dispatch/reports/[^"]+)"', staff).group(1)
    served = client.get(staff_photo)
    served.close()
    assert served.status_code == 200


def test_bulk_changes_write_one_event_each(app, client, auth):
    ids = [add(client) for _ in range(3)]
    auth.login(ROADS)
    client.post("/dispatch/bulk", data={"report": [str(i) for i in ids[:2]],
                                        "status": "acknowledged", "note": "Seen."})
    with app.app_context():
        db = get_db()
        statuses = [r[0] for r in db.execute("SELECT status FROM reports ORDER BY id")]
        events = db.execute("SELECT count(*) FROM report_events WHERE kind = 'status'")
        assert statuses == ["acknowledged", "acknowledged", "new"]
        assert events.fetchone()[0] == 2


def test_bulk_is_all_or_nothing_and_checks_access(app, client, auth):
    mine = add(client)
    theirs = add(client, lon="1.5", category="streetlight")
    auth.login(ROADS)
    assert client.post("/dispatch/bulk", data={"report": [str(mine), str(theirs)],
                                               "status": "acknowledged"}).status_code == 404
    fixed = add(client)
    client.post(f"/dispatch/reports/{fixed}/status", data={"status": "fixed"})
    client.post("/dispatch/bulk",
                data={"report": [str(mine), str(fixed)], "status": "acknowledged"})
    with app.app_context():
        assert get_db().execute("SELECT status FROM reports WHERE id = ?",
                                [mine]).fetchone()[0] == "new"


def test_export_has_staff_fields_of_the_selection(client, auth):
    add(client, email="ada@example.org", description="=cmd|' /C calc'!A0")
    add(client, lon="1.5", category="streetlight", email="bob@example.org")
    auth.login(ROADS)
    response = client.get("/dispatch/export.csv?status=all")
    rows = list(csv.DictReader(io.StringIO(response.get_data(as_text=True))))
    assert [r["reporter_email"] for r in rows] == ["ada@example.org"]
    assert rows[0]["description"].startswith("'=")


def test_queue_filters(client, auth):
    add(client, description="Old one")
    add(client, description="Pothole near school")
    auth.login(ROADS)
    found = client.get("/dispatch?q=school").get_data(as_text=True)
    assert "Pothole near school" in found and "Old one" not in found
    assert "1 report" in found
    assert "0 reports" in client.get("/dispatch?age=1").get_data(as_text=True)
    assert "2 reports" in client.get("/dispatch?area=Square+A").get_data(as_text=True)
    oldest = client.get("/dispatch?order=oldest").get_data(as_text=True)
    assert oldest.index("Old one") < oldest.index("Pothole near school")


def test_stats_page_and_summary(client, auth, runner):
    report_id = add(client)
    auth.login(ROADS)
    client.post(f"/dispatch/reports/{report_id}/status", data={"status": "acknowledged"})
    client.post(f"/dispatch/reports/{report_id}/status", data={"status": "fixed"})
    page = client.get("/dispatch/stats").get_data(as_text=True)
    assert "Roads department" in page and "<svg" in page
    assert re.search(r"<title>Week of \w+ \d+, \d{4}: \d+</title>", page)
    runner.invoke(args=["names", "translate", "service", "roads", "fr", "Voirie"])
    french = client.get("/dispatch/stats", headers={"Accept-Language": "fr"}).get_data(
        as_text=True)
    assert "<td>Voirie</td>" in french and "Roads department" not in french
    assert re.search(r"<title>Semaine du \d+ \w+ \d{4} : \d+</title>", french)


def test_summarise_medians_and_weeks():
    from datetime import date

    def row(status, created, acknowledged=None, fixed=None):
        return {"service_code": "s", "service": "S", "category_code": "c", "category": "C",
                "status": status, "created_at": created,
                "acknowledged_at": acknowledged, "fixed_at": fixed}

    rows = [
        row("fixed", "2026-11-16T00:00:00+00:00", "2026-11-16T02:00:00+00:00",
            "2026-11-17T00:00:00+00:00"),
        row("new", "2026-11-18T00:00:00+00:00"),
        row("acknowledged", "2026-08-01T00:00:00+00:00", "2026-08-01T04:00:00+00:00"),
    ]
    summary = summarise(rows, today=date(2026, 11, 20))
    (line,) = summary.lines
    assert (line.total, line.open, line.oldest_open[:10]) == (3, 2, "2026-08-01")
    assert line.median_acknowledge == 3.0 and line.median_fix == 24.0
    assert len(summary.weeks) == 12 and summary.weeks[-1] == (date(2026, 11, 16), 2)


def test_csrf_is_required_on_staff_and_resident_forms(app, client, auth):
    app.config["WTF_CSRF_ENABLED"] = True
    response = post(client)
    assert response.status_code == 400 and "reload the page" in response.get_data(as_text=True)
    login = client.post("/login", data={"email": ROADS, "password": auth.PASSWORD})
    assert login.status_code == 400


def test_login_is_throttled(app, client, auth):
    app.config["RATE_LIMITS_ON"] = True
    app.config["LOGIN_RATE_LIMIT"] = "3 per minute"
    statuses = [auth.login(ROADS, "wrong").status_code for _ in range(4)]
    assert statuses == [401, 401, 401, 429]


def test_users_create_cli(runner, app):
    result = runner.invoke(args=["users", "create", "new@city.example", "--role", "dispatcher",
                                 "--service", "roads", "--password-stdin"],
                           input="a long enough password\n")
    assert result.exit_code == 0, result.output
    bad = runner.invoke(args=["users", "create", "x@city.example", "--role", "dispatcher",
                              "--password-stdin"], input="a long enough password\n")
    assert "needs at least one --service" in bad.output
    short = runner.invoke(args=["users", "create", "y@city.example", "--role", "admin",
                                "--password-stdin"], input="short\n")
    assert "at least 12 characters" in short.output
