"""English and French: chosen by the browser or the switcher, complete catalogs, translated
category and service names, e-mails in the reader's language."""

import re
from pathlib import Path

from babel.messages.frontend import CommandLineInterface
from babel.messages.pofile import read_po

from tests.receivers import SmtpSink
from tests.test_outbox import mail_app, new_report, send

ROOT = Path(__file__).resolve().parent.parent
FRENCH_PO = ROOT / "app" / "translations" / "fr" / "LC_MESSAGES" / "messages.po"


def test_every_message_of_the_interface_has_a_french_translation(tmp_path):
    template = tmp_path / "messages.pot"
    CommandLineInterface().run(["pybabel", "-q", "extract", "-F", str(ROOT / "babel.cfg"),
                                "-k", "_l", "-o", str(template), str(ROOT)])
    with template.open("rb") as pot:
        wanted = {m.id if isinstance(m.id, str) else m.id[0] for m in read_po(pot) if m.id}
    with FRENCH_PO.open("rb") as po:
        french = read_po(po)
    translated = {(m.id if isinstance(m.id, str) else m.id[0]) for m in french
                  if m.id and all(m.string if isinstance(m.string, tuple) else [m.string])
                  and not m.fuzzy}
    assert len(wanted) > 250
    assert sorted(wanted - translated) == []
    for message in french:
        if message.id:
            for original, translation in zip(_forms(message.id), _forms(message.string),
                                             strict=False):
                assert _placeholders(original) == _placeholders(translation), message.id


def _forms(value):
    return value if isinstance(value, tuple | list) else (value,)


def _placeholders(text):
    return sorted(re.findall(r"%\(\w+\)[sd]|\{\w+\}", text))


def test_the_browser_language_chooses_and_the_switcher_overrides(client):
    french = client.get("/report/new", headers={"Accept-Language": "fr-FR,fr;q=0.9"})
    page = french.get_data(as_text=True)
    assert '<html lang="fr">' in page and "Signaler un problème" in page
    assert '<label for="description">Description</label>' in page
    assert "Où est-ce ?" in page and 'hreflang="en"' in page

    switched = client.get("/language/en?next=/report/new",
                          headers={"Accept-Language": "fr"})
    assert switched.status_code == 303 and switched.headers["Location"] == "/report/new"
    again = client.get("/report/new", headers={"Accept-Language": "fr"})
    assert '<html lang="en">' in again.get_data(as_text=True)
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
