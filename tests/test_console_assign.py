"""The staff report page: assignment (event, e-mail through the outbox), priority, one form
for notes and status, typed fields kept on a refusal, nearby reports and one-step
duplicates."""

import json
import re
from html import unescape

from app.storage import reports as report_rows
from app.storage import row_counts
from app.web.db import get_db
from tests.conftest import AuthActions
from tests.test_dispatch import LIGHTS, ROADS, add
from tests.test_outbox import mail_app, send

CREW = "crew@city.example"


def events(app, report_id):
    with app.app_context():
        return list(get_db().query("SELECT * FROM report_events WHERE report_id = ? "
                                   "ORDER BY id", [report_id]))


def counts(app):
    with app.app_context():
        return row_counts(get_db())


def test_assigning_is_an_event_and_e_mails_the_assignee_through_the_outbox(tmp_path, smtp):
    app = mail_app(tmp_path, smtp.port)
    client = app.test_client()
    auth = AuthActions(app, client)
    auth.create(ROADS)
    auth.create(CREW)
    report_id = add(client)
    auth.login(ROADS)
    response = client.post(f"/dispatch/reports/{report_id}/assign",
                           data={"assignee": CREW, "notify": "1"})
    assert response.status_code == 302
    assigned = events(app, report_id)[-1]
    assert (assigned["kind"], assigned["actor"]) == ("assigned", ROADS)
    assert json.loads(assigned["details"]) == {"from": None, "to": CREW}
    send(app)
    [message] = [m for m in smtp.messages if m["To"] == CREW]
    assert message["Subject"] == f"Report {report_id} (Pothole) is assigned to you"
    body = message.get_content()
    assert f"{ROADS} assigned report {report_id} to you." in body
    assert f"https://fix.city.example/dispatch/reports/{report_id}" in body
    page = client.get(f"/dispatch/reports/{report_id}").get_data(as_text=True)
    assert f'id="staff-assignee">{CREW}<' in page and f"Assigned to {CREW}" in page
    client.post(f"/dispatch/reports/{report_id}/assign", data={"assignee": ROADS, "notify": "1"})
    send(app)
    assert not [m for m in smtp.messages if m["To"] == ROADS], "no e-mail to oneself"


def test_an_assignee_must_work_for_the_service_and_reassigning_clears_it(app, client, auth):
    report_id = add(client)
    auth.login(ROADS)
    before = counts(app)
    refused = client.post(f"/dispatch/reports/{report_id}/assign", data={"assignee": LIGHTS})
    assert refused.status_code == 400
    assert "lights@city.example does not work for Roads department" in unescape(
        refused.get_data(as_text=True))
    assert counts(app) == before
    client.post(f"/dispatch/reports/{report_id}/assign", data={"assignee": ROADS})
    client.post(f"/dispatch/reports/{report_id}/reassign",
                data={"service": "lights", "reason": "Their lamp"})
    with app.app_context():
        assert get_db().execute("SELECT assignee_id FROM reports WHERE id = ?",
                                [report_id]).fetchone()[0] is None


def test_priority_is_an_event_and_a_bad_one_is_refused(app, client, auth):
    report_id = add(client)
    auth.login(ROADS)
    before = counts(app)
    refused = client.post(f"/dispatch/reports/{report_id}/priority", data={"priority": "asap"})
    assert refused.status_code == 400 and "is not a priority" in refused.get_data(as_text=True)
    assert counts(app) == before
    client.post(f"/dispatch/reports/{report_id}/priority", data={"priority": "urgent"})
    last = events(app, report_id)[-1]
    assert last["kind"] == "priority"
    assert json.loads(last["details"]) == {"from": "normal", "to": "urgent"}
    page = client.get(f"/dispatch/reports/{report_id}").get_data(as_text=True)
    assert "Priority: Normal → Urgent" in page and "Priority: Urgent" in page


def test_no_status_is_preselected_and_a_public_note_alone_is_published(app, client, auth):
    report_id = add(client)
    auth.login(ROADS)
    page = client.get(f"/dispatch/reports/{report_id}").get_data(as_text=True)
    select = re.search(r'<select id="new-status" name="status">(.*?)</select>', page, re.S)
    options = re.findall(r'<option value="([^"]*)"[^>]*>', select.group(1))
    assert options[0] == "" and "selected" not in select.group(1)
    response = client.post(f"/dispatch/reports/{report_id}/status",
                           data={"status": "", "public_note": "We have seen it."})
    assert response.status_code == 302
    public = client.get(f"/reports/{report_id}").get_data(as_text=True)
    assert "We have seen it." in public and 'id="report-status">New<' in public
    client.post(f"/dispatch/reports/{report_id}/status",
                data={"status": "", "internal_note": "Crew 7 knows."})
    assert "Crew 7" not in client.get(f"/reports/{report_id}").get_data(as_text=True)
    kinds = [(e["kind"], e["from_status"], e["to_status"]) for e in events(app, report_id)]
    assert kinds[1:] == [("status", "new", "new"), ("note", "new", "new")]
    before = counts(app)
    empty = client.post(f"/dispatch/reports/{report_id}/status", data={"status": ""})
    assert empty.status_code == 400
    assert "Choose a new status, or write a note." in empty.get_data(as_text=True)
    assert counts(app) == before


def test_every_typed_field_comes_back_after_a_refusal(app, client, auth):
    report_id = add(client)
    auth.login(ROADS)
    before = counts(app)
    response = client.post(f"/dispatch/reports/{report_id}/status", data={
        "status": "closed", "public_note": "Closing this one.", "internal_note": "See ticket 9",
        "reason": "", "duplicate_of": "12", "reassign_to": "lights"})
    page = response.get_data(as_text=True)
    assert response.status_code == 400 and "Say why the report is closed" in page
    assert '<option value="closed" selected>' in page
    assert ">Closing this one.</textarea>" in page and ">See ticket 9</textarea>" in page
    assert 'name="duplicate_of" inputmode="numeric" value="12"' in page
    assert '<option value="lights" selected>' in page
    assert counts(app) == before


def test_nearby_open_reports_and_a_one_step_duplicate(app, client, auth):
    report_id = add(client, lon="0.5", lat="0.5")
    same = add(client, lon="0.5005", lat="0.5")           # about 56 m east
    other_kind = add(client, lon="0.5", lat="0.5012", category="pothole",
                     description="Another hole")        # about 133 m north
    far = add(client, lon="0.5", lat="0.503")             # about 330 m: not shown
    auth.login(ROADS)
    client.post(f"/dispatch/reports/{other_kind}/status", data={"status": "fixed"})
    page = client.get(f"/dispatch/reports/{report_id}").get_data(as_text=True)
    listed = [int(n) for n in re.findall(r'<li id="nearby-(\d+)"', page)]
    assert listed == [same], "fixed and far reports are left out"
    assert f'<li id="nearby-{same}" class="same-category">' in page
    assert "56 m away" in page and f"#nearby-{same}" in page, "the map's popup links the list"
    assert far not in listed
    button = f"Mark this one as a duplicate of #{same}"
    assert button in page
    response = client.post(f"/dispatch/reports/{report_id}/status",
                           data={"status": "duplicate", "duplicate_of": str(same)})
    assert response.status_code == 302
    staff = client.get(f"/dispatch/reports/{report_id}").get_data(as_text=True)
    assert 'id="staff-status">Duplicate<' in staff and f"Duplicate of #{same}" in staff
    assert button not in staff, "a duplicate is not open any more"


def test_the_address_shows_first_and_coordinates_when_there_is_none(app, client, auth):
    report_id = add(client)
    auth.login(ROADS)
    page = client.get(f"/dispatch/reports/{report_id}").get_data(as_text=True)
    assert re.search(r'id="report-address">0\.500000, 0\.500000 \(latitude, longitude\)<',
                     page)
    with app.app_context():
        db = get_db()
        db.execute("UPDATE reports SET address = '12 Main Street' WHERE id = ?", [report_id])
        db.conn.commit()
    page = client.get(f"/dispatch/reports/{report_id}").get_data(as_text=True)
    assert 'id="report-address">12 Main Street<' in page
    assert "12 Main Street" in client.get("/dispatch").get_data(as_text=True)


def test_new_boundaries_that_move_a_report_to_another_service_clear_its_assignee(app, client,
                                                                                 auth):
    kept, moved = add(client), add(client)
    auth.login(ROADS)
    for report_id in (kept, moved):
        client.post(f"/dispatch/reports/{report_id}/assign", data={"assignee": ROADS})
    with app.app_context():
        db = get_db()
        row = {r["id"]: r for r in db.query("SELECT * FROM reports")}
        lights = db.execute("SELECT id FROM services WHERE code = 'lights'").fetchone()[0]
        report_rows.reassign(db, kept, row[kept]["service_id"], row[kept]["area_id"],
                             row[kept]["boundary_version_id"])
        report_rows.reassign(db, moved, lights, row[moved]["area_id"],
                             row[moved]["boundary_version_id"])
        assignees = dict(db.execute("SELECT id, assignee_id FROM reports"))
    assert assignees[kept] is not None and assignees[moved] is None
