"""Issue 13, point 19: a dispatcher marks a report a duplicate only of a public report they
handle; any other id is refused with one message, so the form is no existence oracle."""

import re

import pytest

from app.dispatch import workflow
from app.storage import row_counts
from app.web.db import get_db
from tests.test_report_flow import post

ROADS, ADMIN = "roads@city.example", "admin@city.example"
MISSING = 999_999


def add(client, **fields):
    return int(post(client, **fields).headers["Location"].rsplit("/", 1)[1])


@pytest.fixture
def reports(app, client):
    """A roads report to mark, and candidate originals of every kind."""
    ids = {"mine": add(client), "roads": add(client), "hidden": add(client),
           "lights": add(client, lon="1.5")}
    with app.app_context():
        db = get_db()
        assert db.execute("SELECT count(DISTINCT service_id) FROM reports").fetchone()[0] == 2
        workflow.set_hidden(db, ids["hidden"], "moderator", True, "Personal data")
    return ids


def mark_duplicate(client, report_id, original):
    """Post the form; the page it shows (a refusal at once, a change after its redirect),
    with the id taken out."""
    response = client.post(f"/dispatch/reports/{report_id}/status",
                           data={"status": "duplicate", "duplicate_of": str(original)})
    shown = (client.get(response.headers["Location"]) if response.status_code == 302
             else response)
    return response, shown.get_data(as_text=True).replace(str(original), "N")


@pytest.mark.parametrize("original", ["lights", "hidden", "missing"])
def test_a_dispatcher_cannot_name_an_original_they_may_not_show(app, client, auth, reports,
                                                               original):
    auth.login(ROADS)
    with app.app_context():
        before = row_counts(get_db())
    target = MISSING if original == "missing" else reports[original]
    response, page = mark_duplicate(client, reports["mine"], target)
    assert response.status_code == 400
    assert "There is no report number N among the public reports you handle." in page
    with app.app_context():
        db = get_db()
        assert row_counts(db) == before
        assert db.execute("SELECT status, duplicate_of FROM reports WHERE id = ?",
                          [reports["mine"]]).fetchone() == ("new", None)
    assert f'href="/reports/{target}"' not in client.get(f"/reports/{reports['mine']}").get_data(
        as_text=True)


def test_the_refusal_reads_the_same_whether_the_report_exists_or_not(client, auth, reports):
    auth.login(ROADS)
    pages = {kind: mark_duplicate(client, reports["mine"], reports.get(kind, MISSING))[1]
             for kind in ("lights", "hidden", "missing")}
    messages = {kind: re.findall(r'role="alert">(.*?)</p>', page) for kind, page in pages.items()}
    assert len({tuple(m) for m in messages.values()}) == 1 and messages["missing"], messages


def test_a_dispatcher_may_name_a_public_report_of_their_service(client, auth, reports):
    auth.login(ROADS)
    response, page = mark_duplicate(client, reports["mine"], reports["roads"])
    assert response.status_code == 302 and "Status updated." in page
    assert f'href="/reports/{reports["roads"]}"' in client.get(
        f"/reports/{reports['mine']}").get_data(as_text=True)


def test_an_admin_may_name_any_service_but_never_a_hidden_report(app, client, auth, reports):
    auth.login(ADMIN)
    _, refused = mark_duplicate(client, reports["mine"], reports["hidden"])
    assert "There is no report number N among the public reports you handle." in refused
    _, accepted = mark_duplicate(client, reports["mine"], reports["lights"])
    assert "Status updated." in accepted
    with app.app_context():
        assert get_db().execute("SELECT duplicate_of FROM reports WHERE id = ?",
                                [reports["mine"]]).fetchone()[0] == reports["lights"]


def test_an_original_hidden_later_is_no_longer_linked(app, client, auth, reports):
    auth.login(ROADS)
    mark_duplicate(client, reports["mine"], reports["roads"])
    assert f'href="/reports/{reports["roads"]}"' in client.get(
        f"/reports/{reports['mine']}").get_data(as_text=True)
    with app.app_context():
        workflow.set_hidden(get_db(), reports["roads"], "moderator", True, "Personal data")
    page = client.get(f"/reports/{reports['mine']}").get_data(as_text=True)
    assert f'href="/reports/{reports["roads"]}"' not in page and "Duplicate of" not in page
