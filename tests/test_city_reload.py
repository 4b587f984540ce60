"""A city folder's later life: the map's centre and zoom, the reports written back out by
`city export` and read into a fresh instance, and categories and services retired when the
folder no longer lists them (app/reporting/city.py, docs/city-folder.md)."""

import csv
import re

import pytest

from app import create_app
from app.dispatch import workflow
from app.reporting.city import CityFolderError, read_city_folder
from app.storage import city as city_rows
from app.web.db import get_db
from app.web.i18n import LANGUAGES
from tests.test_city_folder import CITY, catalogue, fresh_app, run, write_folder

MAP = '\n[map]\ncentre = [2.3488, 48.8566]\nzoom = 12\n'
PARIS_CENTRE = "center: [48.8566, 2.3488]"
#: The history's rows of a category the folder no longer lists are skipped, not refused.
SKIPPING = CITY.replace('category_field = "kind"\n',
                        'category_field = "kind"\nother_categories = "skip"\n')
WITHOUT_TREE = SKIPPING.replace("""
[[categories]]
code = "tree"
names = { fr = "Arbre tombé", en = "Fallen tree" }
service = "parks"
areas = "squares"
""", "").replace('"Tree down" = "tree"\n', "")
WITHOUT_POTHOLE = SKIPPING.replace("""[[categories]]
code = "pothole"
names = { fr = "Nid-de-poule", en = "Pothole" }
service = "roads"
areas = "squares"
acknowledge_hours = 48
fix_hours = 336

""", "").replace('"Pothole" = "pothole"\n', "")


def with_map(city=CITY, table=MAP):
    """``city`` with a [map] table placed before its [data] table."""
    return city.replace("[data]", table.lstrip("\n") + "\n[data]")


def restarted(app, **config):
    """The app started again on the same database, as after a load (settings are read at
    start-up), with CSRF off so that tests can post forms."""
    return create_app({"DATABASE": app.config["DATABASE"], "SECRET_KEY": "test",
                       "TESTING": True, "WTF_CSRF_ENABLED": False, "RATE_LIMITS_ON": False,
                       "PHOTO_STORE": app.config["PHOTO_STORE"],
                       "RATE_LIMIT_DATABASE": app.config["RATE_LIMIT_DATABASE"], **config})


@pytest.fixture
def city_app(tmp_path):
    return fresh_app(tmp_path / "instance")


# The map's centre and zoom --------------------------------------------------------------


@pytest.mark.parametrize("table, bad_key, message", [
    ("centre = [200.0, 48.8]\nzoom = 12", "centre", "centre [200.0, 48.8] is not [longitude"),
    ("centre = [2.35, -91]\nzoom = 12", "centre", "centre [2.35, -91] is not [longitude"),
    ("centre = [2.35, 48.85]\nzoom = 20", "zoom", "zoom 20 must be from 1"),
    ("centre = [2.35, 48.85]\nzoom = 0", "zoom", "zoom 0 must be from 1"),
    ("zoom = 12", "zoom", "give the map's centre and zoom together"),
    ("centre = [2.35]\nzoom = 12", "centre", "centre must be a [longitude, latitude] pair"),
    ("centre = [2.35, 48.85]\nzoom = 12.5", "zoom", "zoom must be a whole number"),
])
def test_a_bad_map_view_is_refused_with_its_line(tmp_path, table, bad_key, message):
    city = with_map(table=f"[map]\n{table}\n")
    folder = write_folder(tmp_path / "squareville", city)
    line = next(n for n, text in enumerate(city.splitlines(), start=1)
                if text.startswith(bad_key))
    with pytest.raises(CityFolderError) as caught:
        read_city_folder(folder, LANGUAGES)
    assert [str(p) for p in caught.value.problems if message in str(p)] == [
        next(str(p) for p in caught.value.problems if message in str(p))]
    assert any(str(p).startswith(f"city.toml:{line}: ") and message in str(p)
               for p in caught.value.problems), caught.value.problems


def test_map_problems_are_listed_with_the_others(city_app, tmp_path):
    city = with_map(table="[map]\ncentre = [2.35, 95]\nzoom = 25\n").replace(
        'service = "parks"', 'service = "gardens"')
    folder = write_folder(tmp_path / "squareville", city)
    result = run(city_app, "load", str(folder))
    assert result.exit_code == 1
    assert "3 problem(s); nothing was loaded" in result.output
    assert "is not [longitude, latitude]" in result.output and "zoom 25" in result.output
    assert "names the service 'gardens'" in result.output


def test_the_map_view_is_stored_and_exported_back(city_app, tmp_path):
    folder = write_folder(tmp_path / "squareville", with_map())
    assert run(city_app, "load", str(folder)).exit_code == 0
    with city_app.app_context():
        stored = city_rows.settings(get_db())
    assert stored["MAP_CENTRE"] == "2.3488,48.8566" and stored["MAP_ZOOM"] == 12

    run(city_app, "export", str(tmp_path / "exported"))
    exported = read_city_folder(tmp_path / "exported", LANGUAGES).config["map"]
    assert exported["centre"] == [2.3488, 48.8566] and exported["zoom"] == 12
    other = fresh_app(tmp_path / "other")
    assert run(other, "load", str(tmp_path / "exported")).exit_code == 0
    assert catalogue(other)["settings"] == catalogue(city_app)["settings"]


def test_every_map_of_the_city_opens_at_the_configured_view(city_app, tmp_path):
    run(city_app, "load", str(write_folder(tmp_path / "squareville", with_map())))
    client = restarted(city_app).test_client()
    for page in ("/map", "/report/new"):
        html = client.get(page).text
        assert PARIS_CENTRE in html and '"zoom": 12' in html, page
        assert 'data-bounds=""' in html, page  # nothing for the page's script to fit


def test_without_a_view_the_maps_fit_the_areas_as_before(city_app, tmp_path):
    run(city_app, "load", str(write_folder(tmp_path / "squareville")))
    client = restarted(city_app).test_client()
    for page in ("/map", "/report/new"):
        html = client.get(page).text
        assert 'data-bounds="0.0,0.0,2.0,1.0"' in html, page
        assert "center: [0.5, 1.0]" in html and '"zoom": 10' in html, page


@pytest.mark.parametrize("config, message", [
    ({"MAP_CENTRE": "48.85,200", "MAP_ZOOM": 12}, "MAP_CENTRE '48.85,200'"),
    ({"MAP_CENTRE": "Paris", "MAP_ZOOM": 12}, "MAP_CENTRE 'Paris'"),
    ({"MAP_CENTRE": "2.35,48.85"}, "MAP_ZOOM 0"),
])
def test_a_bad_map_setting_stops_start_up(tmp_path, config, message):
    with pytest.raises(ValueError, match=re.escape(message)):
        create_app({"SECRET_KEY": "test", "DATABASE": str(tmp_path / "db.sqlite3"), **config})


# Reports written back out -------------------------------------------------------------


def report_rows(app):
    """Each report's category, position, status, creation and status times, as plain
    values to compare two instances."""
    with app.app_context():
        return sorted(tuple(row) for row in get_db().execute("""
            SELECT c.code, r.lon, r.lat, r.status, r.created_at,
                   (SELECT max(e.at) FROM report_events e WHERE e.report_id = r.id
                      AND e.kind = 'status' AND e.to_status = r.status),
                   coalesce(r.public_description, r.description)
            FROM reports r JOIN categories c ON c.id = r.category_id
            WHERE r.hidden = 0"""))


def submit(client, description, **fields):
    data = {"lon": "0.4", "lat": "0.6", "category": "pothole", "description": description,
            "name": "Ada Resident", "email": "ada@example.org", "phone": "+33 6 12 34 56 78",
            "show_name": "yes", **fields}
    response = client.post("/report/new", data=data, content_type="multipart/form-data")
    assert response.status_code == 303, response.text
    return int(response.headers["Location"].rsplit("/", 1)[1])


def test_export_writes_the_public_reports_and_a_fresh_instance_gets_the_same(
        city_app, tmp_path):
    run(city_app, "load", str(write_folder(tmp_path / "squareville")))
    client = restarted(city_app).test_client()
    fixed = submit(client, "Hole by the school")
    hidden = submit(client, "Rude words about a neighbour", lon="1.6")
    with city_app.app_context():
        db = get_db()
        workflow.change_status(db, fixed, "staff@squareville.example",
                               workflow.StatusChange("fixed", public_note="Filled."))
        workflow.set_hidden(db, hidden, "staff@squareville.example", True, "abuse")
    exported = tmp_path / "exported"

    result = run(city_app, "export", str(exported))

    assert result.exit_code == 0, result.output
    assert "Reports written as history: 4" in result.output
    text = (exported / "reports.csv").read_text(encoding="utf-8")
    for private in ("Ada Resident", "ada@example.org", "12 34 56", "Rude words"):
        assert private not in text
    rows = list(csv.DictReader(text.splitlines()))
    assert [r["status"] for r in rows] == ["closed", "closed", "closed", "fixed"]
    other = fresh_app(tmp_path / "other")
    loaded = run(other, "load", str(exported))
    assert loaded.exit_code == 0, loaded.output
    assert "history reports imported: 4 (0 outside every area skipped)" in loaded.output
    assert report_rows(other) == report_rows(city_app)
    assert catalogue(other) == catalogue(city_app)
    assert run(other, "load", str(exported)).output.splitlines()[-1] == "Nothing changed."


# Categories and services retired ------------------------------------------------------


def offered(client):
    """The category codes the form, the categories API and Open311 offer."""
    select = re.search(r'<select id="category".*?</select>', client.get("/report/new").text,
                       re.DOTALL).group(0)
    form = set(re.findall(r'<option value="([^"]+)"', select))
    api = {c["code"] for c in client.get("/api/categories").json["categories"]}
    here = {c["code"] for c in client.get("/api/categories?lon=1.5&lat=0.5").json[
        "categories"]}
    open311 = {s["service_code"] for s in client.get("/open311/v2/services.json").json}
    return form, api, here, open311


def test_a_category_removed_from_the_folder_is_retired_and_comes_back(city_app, tmp_path):
    folder = write_folder(tmp_path / "squareville")
    run(city_app, "load", str(folder))
    write_folder(folder, WITHOUT_TREE)

    result = run(city_app, "load", str(folder))

    assert result.exit_code == 0, result.output
    assert ("retired (no longer offered; their reports keep them): category tree"
            in result.output)
    client = restarted(city_app).test_client()
    assert offered(client) == ({"pothole"}, {"pothole"}, {"pothole"}, {"pothole"})
    assert client.get("/open311/v2/services/tree.json").status_code == 404
    refused = client.post("/report/new", data={
        "lon": "1.5", "lat": "0.5", "category": "tree", "description": "Fallen oak"},
        content_type="multipart/form-data")
    assert refused.status_code == 400
    assert "pas une catégorie que nous connaissons" in refused.text
    with city_app.app_context():
        old = get_db().execute(
            "SELECT id FROM reports WHERE external_id = 'oldsystem:H2'").fetchone()[0]
    assert "Arbre tombé" in client.get(f"/reports/{old}").text
    assert 'value="tree"' in client.get("/map").text  # old reports can still be filtered

    back = run(city_app, "load", str(write_folder(folder)))

    assert "offered again: category tree" in back.output
    assert offered(restarted(city_app).test_client())[0] == {"pothole", "tree"}
    assert run(city_app, "load", str(folder)).output.splitlines()[-1] == "Nothing changed."


def test_a_retired_category_loses_its_questions_and_stays_out_of_an_export(
        city_app, tmp_path):
    folder = write_folder(tmp_path / "squareville")
    run(city_app, "load", str(folder))
    write_folder(folder, WITHOUT_POTHOLE)
    (folder / "questions.json").write_text('{"categories": {}}', encoding="utf-8")
    assert run(city_app, "load", str(folder)).exit_code == 0
    with city_app.app_context():
        assert [q["code"] for q in get_db().query("SELECT code FROM questions")] == ["size"]
    client = restarted(city_app).test_client()
    assert "size" not in client.get("/report/questions?category=pothole").text
    assert client.get("/open311/v2/services/pothole.json").status_code == 404

    result = run(city_app, "export", str(tmp_path / "exported"))

    assert "Reports left out because their category is retired: 2." in result.output
    codes = [c["code"] for c in read_city_folder(tmp_path / "exported", LANGUAGES)
             .config["categories"]]
    assert codes == ["tree"]
