"""Per-category questions: definitions, answers through the web form, where answers go
(report page, staff page, CSVs, GeoJSON, e-mails, webhooks), the console and the CLI."""

import csv
import io
import json

import pytest

from app.reporting import questions
from app.storage import questions as question_rows
from app.storage import row_counts
from app.web.db import get_db
from tests.test_outbox import configure, mail_app, send

#: A definition with every datatype, an information line, a staff-only and a blocking answer.
EVERY_DATATYPE = [
    {"code": "pole", "datatype": "string", "description": "Pole number",
     "datatype_description": "Painted on the pole, e.g. 1234-567", "public": True},
    {"code": "depth", "datatype": "number", "description": "How deep is it, in cm?",
     "required": True},
    {"code": "seen", "datatype": "datetime", "description": "When did you first see it?"},
    {"code": "details", "datatype": "text", "description": "Anything the crew should know?",
     "public": False},
    {"code": "lane", "datatype": "singlevaluelist", "description": "Where on the road?",
     "values": [{"key": "middle", "name": "Middle of the lane"},
                {"key": "edge", "name": "Near the kerb"}],
     "translations": {"fr": {"description": "Où sur la chaussée ?",
                             "values": {"middle": "Au milieu de la voie"}}}},
    {"code": "hazards", "datatype": "multivaluelist", "description": "What is around it?",
     "values": [{"key": "water", "name": "Standing water"}, {"key": "glass", "name": "Glass"},
                {"key": "bike", "name": "Cycle lane"}]},
    {"code": "danger", "datatype": "singlevaluelist", "description": "Is anyone in danger?",
     "values": [{"key": "no", "name": "No"},
                {"key": "yes", "name": "Yes",
                 "blocking": "Call 911 now: this form is not watched around the clock."}],
     "translations": {"fr": {"blocking": {"yes": "Appelez le 911 : ce formulaire n'est pas "
                                                 "surveillé jour et nuit."}}}},
    {"code": "notice", "datatype": "string", "variable": False,
     "description": "Crews fill potholes within 3 working days."},
]
GOOD_ANSWERS = {
    "attribute[pole]": "  LA-1234  ", "attribute[depth]": "7,5",
    "attribute[seen]": "2026-11-20T08:30", "attribute[details]": "Two holes\nside by side",
    "attribute[lane]": "edge", "attribute[hazards][]": ["glass", "water"],
    "attribute[danger]": "no",
}


@pytest.fixture
def asking(app):
    """The app with every-datatype questions on potholes."""
    with app.app_context():
        questions.import_definitions(get_db(), {"categories": {"pothole": EVERY_DATATYPE}})
    return app


def report_form(**extra):
    return {"lon": "0.5", "lat": "0.5", "category": "pothole",
            "description": "A deep hole", **extra}


def test_every_datatype_round_trips_through_the_form(asking, client):
    response = client.post("/report/new", data=report_form(**GOOD_ANSWERS))
    assert response.status_code == 303, response.get_data(as_text=True)
    with asking.app_context():
        answers = question_rows.report_answers(get_db(), 1, public_only=False)
    assert [(a["code"], a["value"], a["shown"]) for a in answers] == [
        ("pole", "LA-1234", "LA-1234"),
        ("depth", 7.5, "7.5"),
        ("seen", "2026-11-20T08:30", "2026-11-20T08:30"),
        ("details", "Two holes\nside by side", "Two holes\nside by side"),
        ("lane", "edge", "Near the kerb"),
        ("hazards", ["water", "glass"], "Standing water, Glass"),
        ("danger", "no", "No"),
    ]
    assert [a["public"] for a in answers] == [True, True, True, False, True, True, True]


def test_the_form_shows_the_questions_of_the_chosen_category(asking, client):
    page = client.get("/report/questions?category=pothole").get_data(as_text=True)
    assert 'name="attribute[pole]"' in page and 'name="attribute[hazards][]"' in page
    assert 'type="datetime-local"' in page and "<textarea" in page
    assert 'inputmode="decimal"' in page and "(required)" in page
    assert "Painted on the pole, e.g. 1234-567" in page
    assert "Crews fill potholes within 3 working days." in page
    assert 'name="attribute[notice]"' not in page
    assert 'data-blocking="Call 911 now: this form is not watched around the clock."' in page
    assert client.get("/report/questions?category=graffiti").get_data(as_text=True).strip() == ""


def test_the_questions_speak_the_readers_language(asking, client):
    page = client.get("/report/questions?category=pothole",
                      headers={"Accept-Language": "fr"}).get_data(as_text=True)
    assert "Où sur la chaussée ?" in page and "Au milieu de la voie" in page
    assert "Near the kerb" in page  # not translated: shown as written
    assert "Appelez le 911" in page


def test_without_javascript_choosing_shows_the_questions_and_keeps_what_was_typed(asking,
                                                                                   client):
    before = client.get("/report/new").get_data(as_text=True)
    assert 'name="show_questions"' in before and 'name="attribute[pole]"' not in before
    with asking.app_context():
        counts = row_counts(get_db())
    page = client.post("/report/new", data=report_form(
        show_questions="1", name="Ana", email="ana@example.org"))
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and 'name="attribute[pole]"' in html
    assert "A deep hole" in html and 'value="Ana"' in html and 'value="ana@example.org"' in html
    with asking.app_context():
        assert row_counts(get_db()) == counts


@pytest.mark.parametrize(("fields", "field", "message"), [
    ({"attribute[depth]": ""}, "attribute[depth]", "Answer this question: it is required."),
    ({"attribute[depth]": "deep"}, "attribute[depth]", "Enter a number, like 12 or 2.5."),
    ({"attribute[depth]": "nan"}, "attribute[depth]", "Enter a number, like 12 or 2.5."),
    ({"attribute[seen]": "yesterday"}, "attribute[seen]", "Enter a date and time"),
    ({"attribute[lane]": "sidewalk"}, "attribute[lane]",
     "'sidewalk' is not one of the answers to choose from."),
    ({"attribute[hazards][]": ["water", "fire"]}, "attribute[hazards]",
     "'fire' is not one of the answers to choose from."),
    ({"attribute[lane]": ["edge", "middle"]}, "attribute[lane]",
     "Give one answer to this question."),
    ({"attribute[pole]": "x" * 501}, "attribute[pole]", "longer than 500 characters"),
    ({"attribute[colour]": "red"}, "attribute[colour]",
     "There is no question 'colour' for this kind of problem."),
    ({"attribute[notice]": "read"}, "attribute[notice]",
     "There is no question 'notice' for this kind of problem."),
])
def test_a_wrong_answer_is_refused_next_to_its_question_and_nothing_is_stored(
        asking, client, snapshot, fields, field, message):
    before = snapshot()
    data = report_form(**{**GOOD_ANSWERS, **fields})
    response = client.post("/report/new", data=data)
    html = response.get_data(as_text=True)
    assert response.status_code == 400
    assert message.replace("'", "&#39;") in html
    if field != "attribute[colour]" and field != "attribute[notice]":
        question = html[html.index(f'data-code="{field[10:-1]}"'):]
        assert message.replace("'", "&#39;") in question[:question.index("</div>\n")]
    assert snapshot() == before


def test_every_wrong_answer_is_named_at_once(asking, client, snapshot):
    before = snapshot()
    response = client.post("/report/new", data=report_form(**{
        **GOOD_ANSWERS, "attribute[depth]": "", "attribute[lane]": "sidewalk"}))
    html = response.get_data(as_text=True)
    assert response.status_code == 400
    assert html.count('class="field-problem"') == 2
    assert 'id="attribute[depth]"' in html and 'id="attribute[lane]"' in html  # summary links
    assert snapshot() == before


def test_a_wrong_answer_is_explained_in_french(asking, client):
    response = client.post("/report/new", data=report_form(**{
        **GOOD_ANSWERS, "attribute[depth]": "", "attribute[lane]": "x"}),
        headers={"Accept-Language": "fr"})
    html = response.get_data(as_text=True)
    assert '<p class="field-problem" id="attribute[depth]-problem">Répondez à cette question ' \
           ": elle est obligatoire.</p>" in html
    # the summary names the question, in the reader's language when translated
    assert "Où sur la chaussée ? — &#39;x&#39; ne fait pas partie des réponses" in html


def test_a_blocking_answer_stops_the_report_with_its_message(asking, client, snapshot):
    before = snapshot()
    response = client.post("/report/new", data=report_form(**{
        **GOOD_ANSWERS, "attribute[danger]": "yes"}), headers={"Accept-Language": "fr"})
    html = response.get_data(as_text=True)
    assert response.status_code == 400
    assert "Appelez le 911 : ce formulaire n&#39;est pas surveillé jour et nuit." in html
    assert snapshot() == before


def test_changing_a_question_keeps_the_words_an_answer_was_given_to(asking, client):
    client.post("/report/new", data=report_form(**GOOD_ANSWERS))
    changed = {**EVERY_DATATYPE[4], "description": "Which part of the road?",
               "values": [{"key": "edge", "name": "By the kerb"}], "translations": {}}
    with asking.app_context():
        questions.save(get_db(), "pothole", changed)
        question_rows.delete_question(get_db(), "pothole", "pole")
        answers = {a["code"]: a for a in question_rows.report_answers(get_db(), 1, False)}
    assert answers["lane"]["question"] == "Where on the road?"
    assert answers["lane"]["shown"] == "Near the kerb" and answers["pole"]["shown"] == "LA-1234"


def test_public_answers_on_the_report_page_and_all_on_the_staff_page(asking, client, auth):
    client.post("/report/new", data=report_form(**GOOD_ANSWERS))
    public = client.get("/reports/1").get_data(as_text=True)
    assert "Where on the road?" in public and "Near the kerb" in public
    assert "Standing water, Glass" in public and "Anything the crew should know?" not in public
    auth.login()
    staff = client.get("/dispatch/reports/1").get_data(as_text=True)
    assert "Anything the crew should know?" in staff and "Two holes" in staff
    assert "(staff only)" in staff


def read_csv(response):
    return list(csv.DictReader(io.StringIO(response.get_data(as_text=True))))


def test_staff_csv_has_every_answer(asking, client, auth):
    client.post("/report/new", data=report_form(**GOOD_ANSWERS))
    client.post("/report/new", data=report_form(**{**GOOD_ANSWERS, "attribute[pole]": "=1+1"}))
    auth.login()
    rows = read_csv(client.get("/dispatch/export.csv?status=open"))
    assert "lane: Near the kerb" in rows[0]["answers"]
    assert "details: Two holes\nside by side" in rows[0]["answers"]
    assert rows[1]["answers"].startswith("pole: =1+1")


def test_public_csv_and_geojson_have_one_column_per_public_question(asking, client):
    client.post("/report/new", data=report_form(**GOOD_ANSWERS))
    client.post("/report/new", data=report_form(**{"attribute[depth]": "3",
                                                   "attribute[pole]": "=cmd()"}))
    rows = read_csv(client.get("/api/reports.csv?bbox=0,0,2,2"))
    assert rows[0]["answer_lane"] == "Near the kerb"
    assert rows[0]["answer_hazards"] == "Standing water, Glass"
    assert "answer_details" not in rows[0]
    assert rows[1]["answer_depth"] == "3" and rows[1]["answer_lane"] == ""
    assert rows[1]["answer_pole"] == "'=cmd()"
    features = client.get("/api/reports.geojson?bbox=0,0,2,2&download=1").get_json()["features"]
    properties = {f["id"]: f["properties"] for f in features}
    assert properties[1]["answer_lane"] == "Near the kerb"
    assert "answer_details" not in properties[1] and properties[2]["answer_depth"] == "3"


def test_answers_are_read_in_batches_for_exports(asking, client, monkeypatch):
    client.post("/report/new", data=report_form(**GOOD_ANSWERS))
    with asking.app_context():
        db = get_db()
        statements = []
        for name in ("execute", "query"):
            monkeypatch.setattr(db, name, recording(getattr(db, name), statements))
        rows = [{"id": 1}] + [{"id": n} for n in range(1000, 1000 + questions.BATCH + 5)]
        found = list(questions.with_answers(db, iter(rows)))
        monkeypatch.undo()
    assert len(found) == len(rows) and found[0][1][0] == ("pole", "LA-1234")
    assert len([s for s in statements if "report_answers" in s]) == 2


def recording(method, statements):
    """``method`` (the database's execute or query) noting each SQL text it is given, on
    either engine; a text it hands on to the other (sqlite-utils' query runs execute) is
    noted once."""

    def run(sql, *args, **kwargs):
        if not statements or statements[-1] is not sql:
            statements.append(sql)
        return method(sql, *args, **kwargs)

    return run


def test_the_service_email_and_webhook_carry_the_answers(tmp_path, smtp, webhook):
    app = mail_app(tmp_path, smtp.port)
    with app.app_context():
        questions.import_definitions(get_db(), {"categories": {"pothole": EVERY_DATATYPE}})
    configure(app, "--email", "roads@city.example", "--webhook", webhook.url)
    app.test_client().post("/report/new", data=report_form(**GOOD_ANSWERS))
    send(app)
    body = smtp.to("roads@city.example")[0].get_content().replace("\r\n", "\n")
    assert "Where on the road?\n  Near the kerb" in body
    assert "Anything the crew should know?\n  Two holes" in body
    answers = {a["code"]: a for a in webhook.calls[0]["json"]["report"]["answers"]}
    assert answers["hazards"]["value"] == ["water", "glass"]
    assert answers["details"]["public"] is False and answers["depth"]["value"] == 7.5


def test_definitions_are_checked(app):
    bad = [
        ("not an object", "must be an object"),
        ({"code": "a b", "datatype": "string", "description": "Q"}, "may hold only letters"),
        ({"code": "a", "datatype": "date", "description": "Q"}, "The datatype must be one of"),
        ({"code": "a", "datatype": "string", "description": " "}, "description must be a text"),
        ({"code": "a", "datatype": "singlevaluelist", "description": "Q"}, "needs 1 to 100"),
        ({"code": "a", "datatype": "string", "description": "Q",
          "values": [{"key": "k", "name": "K"}]}, "Only list questions have values"),
        ({"code": "a", "datatype": "singlevaluelist", "description": "Q",
          "values": [{"key": "k", "name": "K"}, {"key": "k", "name": "L"}]}, "same key"),
        ({"code": "a", "datatype": "singlevaluelist", "description": "Q",
          "values": [{"key": "k", "name": "K"}],
          "translations": {"fr": {"values": {"z": "Z"}}}}, "keyed by the question"),
        ({"code": "a", "datatype": "string", "description": "Q", "required": "yes"},
         "required must be true or false"),
    ]
    for data, message in bad:
        with pytest.raises(questions.ValidationError, match=message):
            questions.definition(data)


def test_import_is_all_or_nothing(app):
    with app.app_context():
        db = get_db()
        with pytest.raises(questions.ValidationError, match="no category with the code 'nope'"):
            questions.import_definitions(db, {"categories": {
                "pothole": EVERY_DATATYPE, "nope": EVERY_DATATYPE[:1]}})
        assert question_rows.all_questions(db) == []


def test_cli_add_list_export_import(app, runner, tmp_path):
    added = runner.invoke(args=[
        "questions", "add", "streetlight", "danger", "singlevaluelist", "Wires hanging down?",
        "--required", "--value", "no|No", "--value", "yes|Yes|Stay away and call 911."])
    assert added.exit_code == 0, added.output
    assert "Added question danger of streetlight." in added.output
    runner.invoke(args=["questions", "add", "streetlight", "pole", "string", "Pole number",
                        "--staff-only", "--help-text", "On a metal tag"])
    listed = runner.invoke(args=["questions", "list"]).output
    assert "streetlight 1. danger (singlevaluelist; required; public): Wires hanging down? " \
           "[no, yes (blocking)]" in listed
    assert "streetlight 2. pole (string; optional; staff only): Pole number" in listed
    exported = tmp_path / "questions.json"
    assert runner.invoke(args=["questions", "export", str(exported)]).exit_code == 0
    document = json.loads(exported.read_text())
    assert document["categories"]["streetlight"][0]["values"][1]["blocking"] == \
        "Stay away and call 911."
    document["categories"]["pothole"] = EVERY_DATATYPE
    exported.write_text(json.dumps(document))
    imported = runner.invoke(args=["questions", "import", str(exported)])
    assert "Imported 8 new question(s), replaced 2." in imported.output
    with app.app_context():
        assert questions.export_definitions(get_db()) == {"categories": {
            "pothole": [questions.definition(q) for q in EVERY_DATATYPE],
            "streetlight": document["categories"]["streetlight"]}}


def test_cli_refuses_a_bad_definition_or_file(runner, tmp_path):
    refused = runner.invoke(args=["questions", "add", "pothole", "kind", "singlevaluelist",
                                  "Kind?"])
    assert refused.exit_code != 0 and "A list question needs 1 to 100 values." in refused.output
    broken = tmp_path / "broken.json"
    broken.write_text("{")
    result = runner.invoke(args=["questions", "import", str(broken)])
    assert result.exit_code != 0 and "is not JSON" in result.output
    assert "No questions yet." in runner.invoke(args=["questions", "list"]).output


def console_form(**fields):
    return {"category": "streetlight", "code": "danger", "datatype": "singlevaluelist",
            "description": "Are wires hanging down?", "required": "yes", "variable": "yes",
            "public": "yes", "values": "no | No\nyes | Yes | Stay away and call 911.",
            "fr_description": "Des fils pendent-ils ?",
            "fr_values": "no | Non\nyes | Oui | Éloignez-vous et appelez le 911.", **fields}


def test_admins_manage_questions_in_the_console(app, client, auth):
    auth.login("admin@city.example")
    assert "/dispatch/questions" in client.get("/dispatch/stats").get_data(as_text=True)
    saved = client.post("/dispatch/questions", data=console_form(is_new="1"))
    assert saved.status_code == 303
    client.post("/dispatch/questions", data=console_form(
        code="pole", datatype="string", description="Pole number", values="", fr_values="",
        fr_description="", required="", public=""))
    overview = client.get("/dispatch/questions").get_data(as_text=True)
    assert overview.index("Are wires hanging down?") < overview.index("Pole number")
    assert "answers for staff only" in overview and "has a blocking answer" in overview
    client.post("/dispatch/questions/streetlight/pole/move", data={"direction": "up"})
    overview = client.get("/dispatch/questions").get_data(as_text=True)
    assert overview.index("Pole number") < overview.index("Are wires hanging down?")
    edit = client.get("/dispatch/questions/streetlight/danger").get_data(as_text=True)
    assert "yes | Oui | Éloignez-vous et appelez le 911." in edit
    with app.app_context():
        stored = question_rows.category_questions(get_db(), "streetlight")[1]
    assert stored["translations"] == {"fr": {
        "description": "Des fils pendent-ils ?", "values": {"no": "Non", "yes": "Oui"},
        "blocking": {"yes": "Éloignez-vous et appelez le 911."}}}
    assert client.post("/dispatch/questions/streetlight/pole/delete").status_code == 303
    with app.app_context():
        assert [q["code"] for q in question_rows.all_questions(get_db())] == ["danger"]


def test_the_console_refuses_a_bad_question_and_keeps_the_form(app, client, auth):
    auth.login("admin@city.example")
    response = client.post("/dispatch/questions", data=console_form(values="", is_new="1"))
    html = response.get_data(as_text=True)
    assert response.status_code == 400 and "A list question needs 1 to 100 values." in html
    assert 'value="Are wires hanging down?"' in html
    with app.app_context():
        assert question_rows.all_questions(get_db()) == []


def test_only_admins_manage_questions(client, auth):
    auth.login()
    assert "/dispatch/questions" not in client.get("/dispatch/stats").get_data(as_text=True)
    assert client.get("/dispatch/questions").status_code == 403
    assert client.post("/dispatch/questions", data=console_form()).status_code == 403
    auth.logout()
    assert client.get("/dispatch/questions").status_code == 302
