"""Every problem of the report form found in one pass, each next to its field, with a summary
that links to them, in plain words and in the resident's language; nothing stored."""

import re

from tests.factories import jpeg_bytes
from tests.test_report_flow import NOT_AN_IMAGE, post


def problems(html):
    summary = re.search(r'<div class="error-summary".*?</div>', html, re.S).group(0)
    return re.findall(r'<a href="#([\w-]+)">([^<]+)</a>', summary)


def test_every_problem_is_listed_once_and_shown_next_to_its_field(client, snapshot):
    before = snapshot()
    response = post(client, lon="", lat="", category="", description=" ", email="ana@gmail",
                    photos=[("notes.jpg", NOT_AN_IMAGE)])
    assert response.status_code == 400
    html = response.get_data(as_text=True)
    assert [target for target, _ in problems(html)] == [
        "map-hint", "category", "description", "photos", "email"]
    assert "There are 5 problems to fix" in html
    assert 'id="error-summary" role="alert" tabindex="-1" autofocus' in html
    for field, message in [("lon", "Place the pin on the map"),
                           ("category", "Choose what kind of problem"),
                           ("description", "Describe the problem"),
                           ("photos", "not an image we accept"),
                           ("email", "not a valid e-mail address")]:
        assert re.search(rf'<p class="field-error" id="{field}-error">[^<]*{message}', html)
    assert re.search(r'<select id="category" name="category" required aria-invalid="true" '
                     r'aria-describedby="category-error">', html)
    assert 'aria-invalid="true" aria-describedby="email-error email-hint"' in html
    assert 'aria-invalid="true" aria-describedby="description-error description-hint"' in html
    assert 'id="name" name="name" autocomplete="name" maxlength="100" value' in html
    assert snapshot() == before


def test_what_was_typed_is_kept_and_photos_are_asked_again_without_javascript(client):
    html = post(client, category="pothole", email="ana@gmail", name="Ana",
                description="Hole by the school", show_name="yes",
                photos=[("hole.jpg", jpeg_bytes())]).get_data(as_text=True)
    assert [target for target, _ in problems(html)] == ["email"]
    assert "There is a problem to fix" in html
    assert 'value="ana@gmail"' in html and 'value="Ana"' in html and "Hole by the school" in html
    assert re.search(r'<option value="pothole"\s+selected>', html)
    assert 'id="show_name" name="show_name" type="checkbox" value="yes" checked' in html
    assert "Choose your photos again" in html


def test_the_place_alone_not_covered_is_a_422_on_the_pin(client):
    response = post(client, lon="5", lat="5")
    assert response.status_code == 422
    assert problems(response.get_data(as_text=True)) == [
        ("map-hint", "This location is outside the area we cover.")]


def test_a_category_not_handled_here_is_put_on_the_category(client):
    response = post(client, category="streetlight", description="")
    assert response.status_code == 400
    assert [target for target, _ in problems(response.get_data(as_text=True))] == [
        "category", "description"]


def test_problems_in_french(client):
    html = client.post("/report/new", data={"description": "", "category": "pothole"},
                       headers={"Accept-Language": "fr"}).get_data(as_text=True)
    assert "Il y a 2 problèmes à corriger" in html
    assert "Placez l’épingle sur la carte" in html


def test_apis_list_each_fields_problem_in_json(client):
    response = client.get("/api/categories?lon=abc&lat=1")
    assert response.status_code == 400 and "fields" not in response.get_json()["error"]
