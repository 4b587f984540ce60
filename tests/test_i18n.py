"""English and French: chosen by the browser or the switcher, complete catalogs, translated
category and service names, e-mails in the reader's language."""

import io
import re
from pathlib import Path

import pytest
from babel.messages.frontend import CommandLineInterface
from babel.messages.pofile import read_po
from markupsafe import escape

from tests.factories import jpeg_bytes
from tests.receivers import SmtpSink
from tests.test_outbox import mail_app, new_report, send

ROOT = Path(__file__).resolve().parent.parent
FRENCH_PO = ROOT / "app" / "translations" / "fr" / "LC_MESSAGES" / "messages.po"


def test_every_message_of_the_interface_has_a_french_translation(tmp_path):
    template = tmp_path / "messages.pot"
    CommandLineInterface().run(["pybabel", "-q", "extract", "-F", str(ROOT / "babel.cfg"),
                                "-o", str(template), str(ROOT)])
    with template.open("rb") as pot:
        wanted = {m.id if isinstance(m.id, str) else m.id[0] for m in read_po(pot) if m.id}
    with FRENCH_PO.open("rb") as po:
        french = read_po(po)
    translated = {(m.id if isinstance(m.id, str) else m.id[0]) for m in french
                  if m.id and all(m.string if isinstance(m.string, tuple) else [m.string])
                  and not m.fuzzy}
    assert len(wanted) > 250 and "Describe the problem in a few words." in wanted
    assert sorted(wanted - translated) == []
    for message in french:
        if message.id:
            for original, translation in zip(_forms(message.id), _forms(message.string),
                                             strict=False):
                assert _placeholders(original) == _placeholders(translation), message.id


def _forms(value):
    return value if isinstance(value, tuple | list) else (value,)


def _placeholders(text):
    return sorted(re.findall(r"%\(\w+\)[sdr]|\{\w+\}", text))


def test_the_browser_language_chooses_and_the_switcher_overrides(client):
    french = client.get("/report/new", headers={"Accept-Language": "fr-FR,fr;q=0.9"})
    page = french.get_data(as_text=True)
    assert '<html lang="fr" ' in page and "Signaler un problème" in page
    assert '<label for="description">Description</label>' in page
    assert "Où est-ce ?" in page and '<button type="submit" lang="en">English</button>' in page

    switched = client.get("/language/en?next=/report/new",
                          headers={"Accept-Language": "fr"})
    assert switched.status_code == 303 and switched.headers["Location"] == "/report/new"
    again = client.get("/report/new", headers={"Accept-Language": "fr"})
    assert '<html lang="en" ' in again.get_data(as_text=True)
    assert "Report a problem" in again.get_data(as_text=True)


def test_the_switcher_never_redirects_to_another_site(client):
    for target in ("https://evil.example/", "//evil.example/", "/\\evil.example"):
        response = client.get("/language/fr", query_string={"next": target})
        assert response.headers["Location"] == "/"
    assert client.get("/language/de").status_code == 404


def test_page_script_words_are_translated(client):
    page = client.get("/map", headers={"Accept-Language": "fr"}).get_data(as_text=True)
    words = re.search(r'<script type="application/json" id="ui-text"[^>]*>(.*?)</script>', page)
    assert "Les signalements n\\u2019ont pas pu" in words.group(1) or \
        "Les signalements n’ont pas pu" in words.group(1)


def test_category_and_service_names_can_be_translated(app, client, runner):
    result = runner.invoke(args=["names", "translate", "category", "pothole", "fr",
                                 "Nid-de-poule"])
    assert result.exit_code == 0, result.output
    runner.invoke(args=["names", "translate", "service", "roads", "fr", "Voirie"])
    assert runner.invoke(args=["names", "translate", "category", "nope", "fr", "X"]
                         ).exit_code != 0
    new_report(app, email=None)
    french = client.get("/reports/1", headers={"Accept-Language": "fr"}).get_data(as_text=True)
    assert "Nid-de-poule" in french and "Voirie" in french and "Nouveau" in french
    english = client.get("/reports/1").get_data(as_text=True)
    assert "Pothole" in english and "Nid-de-poule" not in english


def test_emails_are_in_the_language_the_reporter_used(tmp_path):
    smtp = SmtpSink().start()
    try:
        app = mail_app(tmp_path, smtp.port)
        client = app.test_client()
        client.set_cookie("lang", "fr")
        response = client.post("/report/new", data={
            "lon": "0.5", "lat": "0.5", "category": "pothole", "description": "Trou",
            "email": "marie@example.fr"})
        assert response.status_code == 303
        send(app)
    finally:
        smtp.stop()
    [message] = smtp.to("marie@example.fr")
    assert message["Subject"] == "Votre signalement 1 : votre lien privé"
    assert "Voici votre lien privé" in message.get_content()


FRENCH = {"Accept-Language": "fr"}


@pytest.mark.parametrize(("fields", "photos", "status", "message"), [
    ({"lon": ""}, [], 400, "La longitude manque : placez l’épingle sur la carte."),
    ({"lat": "91"}, [], 400, "La latitude 91.0 est hors limites"),
    ({"description": " "}, [], 400, "Décrivez le problème en quelques mots."),
    ({"category": "streetlight"}, [], 422,
     "Lampadaire éteint n’est pas traité à cet endroit"),
    ({}, [("ok.jpg", jpeg_bytes()), ("x.jpg", b"<html></html>")], 400,
     "La photo 2 n’est pas une image que nous acceptons"),
])
def test_errors_from_every_layer_are_in_the_readers_language(app, client, runner, snapshot,
                                                             fields, photos, status, message):
    runner.invoke(args=["names", "translate", "category", "streetlight", "fr",
                        "Lampadaire éteint"])
    before = snapshot()
    data = {"lon": "0.5", "lat": "0.5", "category": "pothole", "description": "Trou", **fields}
    data["photos"] = [(io.BytesIO(content), name) for name, content in photos]
    response = client.post("/report/new", data=data, headers=FRENCH,
                           content_type="multipart/form-data")
    assert response.status_code == status
    assert escape(message) in response.get_data(as_text=True)
    assert snapshot() == before


def test_api_and_generic_errors_are_translated_but_open311_stays_english(client):
    nearby = client.get("/api/reports/nearby?lon=abc&lat=0.5&category=pothole", headers=FRENCH)
    assert nearby.json["error"]["message"] == "La longitude 'abc' n’est pas un nombre."
    missing = client.get("/reports/99", headers=FRENCH)
    assert "Il n’y a pas de signalement numéro 99." in missing.get_data(as_text=True)
    nowhere = client.get("/no/such/page", headers=FRENCH)
    assert "Il n’y a rien à cette adresse." in nowhere.get_data(as_text=True)
    login = client.get("/dispatch", headers=FRENCH, follow_redirects=True)
    assert "Connectez-vous pour voir la console de traitement." in login.get_data(as_text=True)
    open311 = client.get("/open311/v2/requests/99.json", headers=FRENCH)
    assert open311.json == [{"code": 404, "description": "There is no service request 99."}]
    no_route = client.get("/open311/v2/nothing.json", headers=FRENCH)
    assert no_route.json == [{"code": 404, "description": "There is nothing at this address."}]
    english = client.get("/api/reports/nearby?lon=abc&lat=0.5&category=pothole")
    assert english.json["error"]["message"] == "The longitude 'abc' is not a number."
