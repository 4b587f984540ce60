"""Response templates: the CLI, the admin page, and the list on a report page (the report's
service, category and status, the reader's language, placeholders filled)."""

import re
from html import unescape

import pytest

from app.dispatch.response_templates import fill
from app.web.db import get_db
from tests.test_dispatch import ADMIN, ROADS, add

FRENCH = {"Accept-Language": "fr"}


def template_count(app):
    with app.app_context():
        return get_db().execute("SELECT count(*) FROM response_templates").fetchone()[0]


def options(page):
    """(title, status, text) of each template offered on a report page."""
    select = re.search(r'<select id="response-template">(.*?)</select>', page, re.S)
    if select is None:
        return []
    return [(unescape(title).strip(), status, unescape(text)) for text, status, title in
            re.findall(r'data-text="([^"]*)" data-status="([^"]*)">([^<(]*)',
                       select.group(1))]


def test_the_cli_adds_lists_and_removes_and_refuses_a_bad_template(app, runner):
    added = runner.invoke(args=["templates", "add", "roads", "--category", "pothole",
                                "--status", "fixed", "--title", "Filled",
                                "Report {number} is fixed."])
    assert added.exit_code == 0 and "Template 1 added." in added.output
    listed = runner.invoke(args=["templates", "list"]).output
    assert "1: roads [en] pothole fixed 'Filled': Report {number} is fixed." in listed
    for args, message in [
        (["parks", "--title", "T", "x"], "There is no service 'parks'."),
        (["roads", "--title", "T", "Due {when}"], "Unknown placeholder {when}"),
        (["roads", "--title", " ", "x"], "needs a title and a text"),
        (["roads", "--language", "de", "--title", "T", "x"], "no 'de' version"),
        (["roads", "--status", "gone", "--title", "T", "x"], "'gone' is not a status"),
        (["roads", "--category", "potholes", "--title", "T", "x"], "no category 'potholes'"),
    ]:
        result = runner.invoke(args=["templates", "add", *args])
        assert result.exit_code != 0 and message in result.output, args
    assert template_count(app) == 1
    assert runner.invoke(args=["templates", "remove", "1"]).exit_code == 0
    assert "no response template number 1" in runner.invoke(
        args=["templates", "remove", "1"]).output
    assert template_count(app) == 0


def test_admins_manage_templates_on_a_console_page_and_dispatchers_may_not(app, client, auth):
    auth.login(ROADS)
    assert client.get("/dispatch/templates").status_code == 403
    assert client.post("/dispatch/templates", data={"service": "roads", "locale": "en",
                                                    "title": "T", "text": "x"}).status_code == 403
    auth.logout()
    auth.login(ADMIN)
    refused = client.post("/dispatch/templates", data={
        "service": "roads", "category": "pothole", "status": "in_progress", "locale": "fr",
        "title": "Équipe", "text": "Pour le {numero}"})
    page = unescape(refused.get_data(as_text=True))
    assert refused.status_code == 400 and "Unknown placeholder {numero}" in page
    assert 'value="Équipe"' in page and ">Pour le {numero}</textarea>" in page
    assert '<option value="in_progress" selected>' in page
    assert template_count(app) == 0
    saved = client.post("/dispatch/templates", data={
        "service": "roads", "category": "pothole", "status": "in_progress", "locale": "fr",
        "title": "Équipe", "text": "Pour le n° {number}"})
    assert saved.status_code == 302
    listing = client.get("/dispatch/templates").get_data(as_text=True)
    assert "Pour le n° {number}" in listing and "Français" in listing
    template_id = re.search(r'id="template-(\d+)"', listing).group(1)
    editing = unescape(client.get(f"/dispatch/templates?edit={template_id}").get_data(
        as_text=True))
    assert f'name="template_id" value="{template_id}"' in editing
    assert 'value="Équipe"' in editing and ">Pour le n° {number}</textarea>" in editing
    assert client.get("/dispatch/templates?edit=999").status_code == 404
    changed = client.post("/dispatch/templates", data={
        "template_id": template_id, "service": "lights", "locale": "fr",
        "title": "Équipe prévue", "text": "Une équipe passe pour le n° {number}."})
    assert changed.status_code == 302 and template_count(app) == 1
    listing = client.get("/dispatch/templates").get_data(as_text=True)
    assert "Une équipe passe" in listing and "Street lighting" in listing
    client.post(f"/dispatch/templates/{template_id}/delete")
    assert template_count(app) == 0


@pytest.fixture
def templates(runner):
    for args in (
        ["roads", "--category", "pothole", "--status", "in_progress", "--title", "Crew booked",
         "Report {number} ({category}) at {address}: a crew comes before {due}."],
        ["roads", "--title", "Thanks", "Thank you for report {number}."],
        ["roads", "--language", "fr", "--title", "Merci", "Merci pour le n° {number} "
         "({category})."],
        ["roads", "--category", "graffiti", "--title", "Paint", "Painted over."],
        ["lights", "--title", "Lamp", "A lamp."],
    ):
        assert runner.invoke(args=["templates", "add", *args]).exit_code == 0


def test_a_report_page_offers_its_services_templates_in_the_readers_language_filled_in(
        app, client, auth, runner, templates):
    runner.invoke(args=["targets", "set", "pothole", "--fix-hours", "48"])
    runner.invoke(args=["names", "translate", "category", "pothole", "fr", "Nid-de-poule"])
    report_id = add(client)
    auth.login(ROADS)
    page = client.get(f"/dispatch/reports/{report_id}").get_data(as_text=True)
    offered = options(page)
    assert [title for title, _status, _text in offered] == ["Crew booked", "Thanks"]
    crew = offered[0]
    assert crew[1] == "in_progress"
    assert re.fullmatch(rf"Report {report_id} \(Pothole\) at 0\.500000, 0\.500000: a crew "
                        r"comes before \w+ \d+, \d{4}, \d+:\d\d\s?[AP]M UTC\.", crew[2]), crew[2]
    french = options(client.get(f"/dispatch/reports/{report_id}", headers=FRENCH).get_data(
        as_text=True))
    assert french == [("Merci", "", f"Merci pour le n° {report_id} (Nid-de-poule).")]


def test_a_chosen_template_sent_as_the_public_note_shows_on_the_public_page(
        client, auth, templates):
    report_id = add(client)
    auth.login(ROADS)
    text = options(client.get(f"/dispatch/reports/{report_id}").get_data(as_text=True))[1][2]
    edited = text + " We will call you."
    client.post(f"/dispatch/reports/{report_id}/status",
                data={"status": "acknowledged", "public_note": edited})
    public = client.get(f"/reports/{report_id}").get_data(as_text=True)
    assert f"Thank you for report {report_id}. We will call you." in public


def test_fill_leaves_unknown_braces_and_fills_every_placeholder():
    values = {"number": 7, "category": "Pothole", "address": "1 Main St", "due": "Monday"}
    assert fill("{number}/{category}/{address}/{due}/{x}", values) == \
        "7/Pothole/1 Main St/Monday/{x}"
