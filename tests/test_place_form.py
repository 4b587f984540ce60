"""The report form's place search without JavaScript (app/web/place_form.py): a GET that
lists the matches as links, a link that fills the position, a bad search explained with a
400 and nothing stored, and a pin outside every area naming what is covered."""

import re
from html import unescape
from urllib.parse import parse_qs, urlsplit

import pytest

from app.storage import row_counts
from app.web.db import get_db
from tests.test_places import loaded  # noqa: F401 (the fixture: address points in the squares)
from tests.test_report_flow import post


def form(client, language="en", **args):
    response = client.get("/report/new", query_string=args,
                          headers={"Accept-Language": language})
    return response.status_code, response.get_data(as_text=True)


def result_links(html):
    box = html[html.index('class="place-results"'):]
    box = box[:box.index("</ul>")]
    return [(unescape(href), text) for href, text in re.findall(r'<a href="([^"]+)">([^<]+)</a>',
                                                                box)]


def status_line(html):
    return unescape(re.search(r'id="place-search-status"[^>]*>([^<]*)</p>', html).group(1))


def test_the_form_has_a_labelled_search_box_for_a_get_form_outside_the_report_form(client):
    status, html = form(client)
    assert status == 200
    assert '<label for="place-query">Street and number, or a place</label>' in html
    assert re.search(r'<form method="get" id="place-search" action="/report/new"></form>', html)
    assert re.search(r'<input id="place-query" name="place" form="place-search"', html)
    assert 'class="place-results"' not in html


def test_a_search_lists_the_matches_as_links_that_fill_the_position(loaded, client):  # noqa: F811
    status, html = form(client, place="977 n hill", category="graffiti")
    assert status == 200
    assert status_line(html) == "Choose the address to place the pin there:"
    links = result_links(html)
    assert links[0][1].upper().startswith("977 N HILL ST")
    href = urlsplit(links[0][0])
    chosen = parse_qs(href.query)
    assert href.path == "/report/new" and href.fragment == "place-search-box"
    assert chosen == {"lon": ["0.500000"], "lat": ["0.500000"], "category": ["graffiti"]}

    status, html = form(client, **{k: v[0] for k, v in chosen.items()})
    assert status == 200
    assert 'id="lon" name="lon"' in html and 'value="0.500000"' in html
    assert re.search(r'<option value="graffiti"\s+selected>', html)
    assert status_line(html).upper().startswith("THE PIN IS AT 977 N HILL ST")


def test_nothing_found_says_what_to_try(loaded, client):  # noqa: F811
    status, html = form(client, place="Nowhere Lane")
    assert status == 200
    assert status_line(html) == ("No address matches “Nowhere Lane”. Try the street name "
                                 "alone, or tap the map.")


@pytest.mark.parametrize("place, message", [
    ("", "Type a street and number, or a place, to search for."),
    ("  ", "Type a street and number, or a place, to search for."),
    ("?!", "Type at least one letter or digit to search for a place."),
    ("x" * 201, "The search is 201 characters long; the limit is 200."),
])
def test_a_bad_search_is_a_400_explained_next_to_the_box_and_stores_nothing(
        loaded, client, app, place, message):  # noqa: F811
    with app.app_context():
        before = row_counts(get_db())
    status, html = form(client, place=place)
    assert status == 400
    assert status_line(html) == message
    assert 'aria-invalid="true"' in html
    with app.app_context():
        assert row_counts(get_db()) == before


def test_a_bad_search_in_french(loaded, client):  # noqa: F811
    status, html = form(client, "fr", place="?!")
    assert status == 400
    assert "lettre" in status_line(html)


@pytest.mark.parametrize("args", [{"lon": "abc", "lat": "0.5"}, {"lon": "0.5"},
                                  {"lon": "500", "lat": "0.5"}])
def test_a_broken_position_in_the_link_fills_nothing(client, args):
    status, html = form(client, **args)
    assert status == 200
    assert 'value="0.500000"' not in html and "The pin is at" not in html


def test_outside_every_area_the_category_stays_and_the_note_names_what_is_covered(client):
    response = post(client, lon="5.0", lat="5.0", category="graffiti")
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    note = re.search(r'<p id="coverage-note" class="coverage-note"\s*>(.*?)</p>', html, re.S)
    assert note, "the note is shown, not hidden"
    assert "We take reports inside the areas of Roads department, Street lighting." in note[1]
    assert 'href="/map?areas=1"' in note[1]
    assert re.search(r'<option value="graffiti"\s+selected>', html)


def test_the_note_stays_hidden_for_other_problems(client):
    html = post(client, description="").get_data(as_text=True)
    assert re.search(r'<p id="coverage-note" class="coverage-note" hidden>', html)
