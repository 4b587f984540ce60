"""A city from files alone: the folder checked as a whole, loaded once, loaded again,
changed, exported and loaded elsewhere (app/reporting/city.py, `flask --app app city`)."""

import json
import re
import tomllib

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from app import create_app
from app.demo import DATA
from app.reporting import questions
from app.reporting.city import KEYS, CityFolderError, read_city_folder, to_toml
from app.storage import city as city_rows
from app.storage import row_counts, upgrade
from app.storage import targets as target_rows
from app.web.db import get_db
from app.web.i18n import LANGUAGES

CITY = """\
[city]
name = "Squareville"
languages = ["fr", "en"]
time_zone = "Europe/Paris"

[data]
licence = "https://opendatacommons.org/licenses/odbl/1-0/"
attribution = "Contains data from Squareville, ODbL"

[[services]]
code = "roads"
names = { fr = "Voirie", en = "Roads" }
email = "roads@squareville.example"

[[services]]
code = "parks"
names = { fr = "Parcs", en = "Parks" }

[[categories]]
code = "pothole"
names = { fr = "Nid-de-poule", en = "Pothole" }
service = "roads"
areas = "squares"
acknowledge_hours = 48
fix_hours = 336

[[categories]]
code = "tree"
names = { fr = "Arbre tombé", en = "Fallen tree" }
service = "parks"
areas = "squares"

[[boundaries]]
name = "squares"
file = "squares.geojson"
name_field = "label"

[questions]
file = "questions.json"

[addresses]
file = "addresses.csv"
address_field = "address"
lon_field = "lon"
lat_field = "lat"

[history]
file = "history.csv"
source = "oldsystem"
id_field = "ref"
lon_field = "lon"
lat_field = "lat"
created_field = "date"
created_format = "%Y-%m-%d %H:%M"
category_field = "kind"
description = "{kind} at {address} (old system {ref})."

[history.categories]
"Pothole" = "pothole"
"Tree down" = "tree"
"""
HISTORY = """\
ref,kind,address,lon,lat,date
H1,Pothole,1 Rue Carrée,0.5,0.5,2024-03-30 23:30
H2,Tree down,2 Rue Carrée,1.5,0.5,2024-07-14 10:00
H3,Pothole,3 Rue Carrée,1.2,0.2,2024-07-15 08:00
"""
ADDRESSES = """\
address,lon,lat
1 Rue Carrée,0.5,0.5
2 Rue Carrée,1.5,0.5
3 Rue Carrée,1.2,0.2
"""
QUESTIONS = {"categories": {"pothole": [{
    "code": "size", "datatype": "singlevaluelist", "description": "Quelle taille ?",
    "values": [{"key": "small", "name": "Petit"}, {"key": "large", "name": "Grand"}],
    "translations": {"en": {"description": "How big?",
                            "values": {"small": "Small", "large": "Large"}}}}]}}
CITY_TABLES = ("services", "categories", "service_areas", "boundary_versions",
               "name_translations", "questions", "report_targets", "addresses",
               "city_settings", "city_files", "reports", "report_events")


def square(x0, x1):
    ring = [[x0, 0], [x1, 0], [x1, 1], [x0, 1], [x0, 0]]
    return {"type": "Polygon", "coordinates": [ring]}


def squares(edge=1.0):
    """Two squares side by side sharing the edge x = ``edge``."""
    return {"type": "FeatureCollection", "features": [
        {"type": "Feature", "properties": {"label": "West"}, "geometry": square(0, edge)},
        {"type": "Feature", "properties": {"label": "East"}, "geometry": square(edge, 2)},
    ]}


def write_folder(path, city=CITY, edge=1.0):
    path.mkdir(parents=True, exist_ok=True)
    (path / "city.toml").write_text(city, encoding="utf-8")
    (path / "squares.geojson").write_text(json.dumps(squares(edge)), encoding="utf-8")
    (path / "history.csv").write_text(HISTORY, encoding="utf-8")
    (path / "addresses.csv").write_text(ADDRESSES, encoding="utf-8")
    (path / "questions.json").write_text(json.dumps(QUESTIONS), encoding="utf-8")
    return path


def fresh_app(folder, **config):
    """An app on a new, empty database (no areas at all) in ``folder``."""
    folder.mkdir(parents=True, exist_ok=True)
    app = create_app({
        "TESTING": True, "SECRET_KEY": "test", "RATE_LIMITS_ON": False,
        "DATABASE": str(folder / "city.sqlite3"), "PHOTO_STORE": str(folder / "photos"),
        "RATE_LIMIT_DATABASE": str(folder / "rate-limits.sqlite3"), **config,
    })
    with app.app_context():
        upgrade(get_db())
    return app


def counts(app):
    with app.app_context():
        return row_counts(get_db(), CITY_TABLES)


def run(app, *args):
    return app.test_cli_runner().invoke(args=["city", *args])


@pytest.fixture
def city_app(tmp_path):
    return fresh_app(tmp_path / "instance")


@pytest.fixture
def folder(tmp_path):
    return write_folder(tmp_path / "squareville")


def catalogue(app):
    """Everything a city folder sets, as plain values to compare two instances."""
    with app.app_context():
        db = get_db()
        return {
            "settings": city_rows.settings(db),
            "services": sorted((r["code"], r["name"], r["email"])
                               for r in db.query("SELECT * FROM services")),
            "categories": sorted((r["code"], r["name"])
                                 for r in db.query("SELECT * FROM categories")),
            "names": sorted(tuple(r.values()) for r in db.query(
                "SELECT kind, code, locale, name FROM name_translations")),
            "areas": sorted((*r[:2], sorted(r[2].split(",")), *r[3:]) for r in db.execute("""
                SELECT a.name, s.code, group_concat(c.code), a.priority,
                       round(a.size_m2), a.min_lon, a.max_lon
                FROM service_areas a JOIN services s ON s.id = a.service_id
                JOIN service_area_categories ac ON ac.area_id = a.id
                JOIN categories c ON c.id = ac.category_id
                WHERE a.retired_version_id IS NULL GROUP BY a.id""")),
            "targets": sorted((r["category_code"], r["acknowledge_hours"], r["fix_hours"])
                              for r in target_rows.all_targets(db)),
            "questions": questions.export_definitions(db),
            "addresses": sorted(tuple(r.values()) for r in city_rows.all_address_points(db)),
        }


def test_a_folder_with_every_kind_of_error_is_refused_with_all_reasons(city_app, tmp_path):
    broken = CITY.replace('time_zone = "Europe/Paris"',
                          'time_zone = "Europe/Paris"\ncolour = "blue"')
    broken = broken.replace('service = "parks"', 'service = "gardens"')
    broken = broken.replace('code = "tree"', 'code = "pothole"')
    broken = broken.replace('file = "questions.json"', 'file = "missing.json"')
    broken += ('\n[[boundaries]]\nname = "projected"\nfile = "projected.geojson"\n')
    broken = broken.replace('areas = "squares"\n\n[[boundaries]]',
                            'areas = ["squares", "projected"]\n\n[[boundaries]]')
    path = write_folder(tmp_path / "broken", broken)
    feature = {"type": "Feature", "properties": {},
               "geometry": {"type": "Polygon", "coordinates": [[
                   [6460000, 1840000], [6461000, 1840000], [6461000, 1841000],
                   [6460000, 1840000]]]}}
    (path / "projected.geojson").write_text(json.dumps(
        {"type": "FeatureCollection", "features": [feature]}))
    before = counts(city_app)

    result = run(city_app, "load", str(path))

    assert result.exit_code == 1
    lines = broken.splitlines()
    expected = {
        "unknown field 'colour'": "colour",
        "names the service 'gardens'": 'service = "gardens"',
        "duplicate code 'pothole'": 'code = "pothole"',
        "missing file 'missing.json'": 'file = "missing.json"',
        "projected.geojson: ": 'file = "projected.geojson"',
    }
    for message, text in expected.items():
        line = max(n for n, content in enumerate(lines, start=1) if text in content)
        assert f"city.toml:{line}: " in result.output and message in result.output, message
    assert "longitudes" in result.output or "CRS" in result.output
    assert "history names the category 'tree'" in result.output
    assert "6 problem(s); nothing was loaded" in result.output
    assert counts(city_app) == before


def test_history_rows_are_checked_with_their_csv_line(city_app, folder):
    (folder / "history.csv").write_text(HISTORY + "H4,Pothole,4 Rue,east,0.5,2024-01-01 10:00\n"
                                        "H5,Flood,5 Rue,0.5,0.5,2024-01-01 10:00\n"
                                        "H6,Pothole,6 Rue,0.5,0.5,yesterday\n")
    before = counts(city_app)
    with pytest.raises(CityFolderError) as caught:
        read_city_folder(folder, LANGUAGES)
    problems = [str(p) for p in caught.value.problems]
    assert problems == [
        "history.csv:5: H4: the position is not two numbers.",
        "history.csv:6: H5: no category for 'Flood'.",
        "history.csv:7: H6: 'yesterday' does not match '%Y-%m-%d %H:%M'.",
    ]
    assert run(city_app, "load", str(folder)).exit_code == 1
    assert counts(city_app) == before


def test_not_toml_is_refused_with_the_parser_s_line(city_app, folder):
    (folder / "city.toml").write_text(CITY.replace("[data]", "[data"))
    result = run(city_app, "load", str(folder))
    assert result.exit_code == 1
    assert "not valid TOML" in result.output and "line 6" in result.output


def test_dry_run_stores_nothing(city_app, folder):
    before = counts(city_app)
    result = run(city_app, "load", "--dry-run", str(folder))
    assert result.exit_code == 0, result.output
    assert "history reports imported: 3" in result.output
    assert result.output.splitlines()[-2:] == ["These changes would be loaded.",
                                               "Dry run: nothing was stored."]
    assert counts(city_app) == before


def test_load_then_load_again_changes_nothing(city_app, folder):
    first = run(city_app, "load", str(folder))
    assert first.exit_code == 0, first.output
    assert "boundaries squares/roads: loaded as boundary version 1" in first.output
    assert "history reports imported: 3" in first.output
    loaded = counts(city_app)
    assert loaded["reports"] == 3 and loaded["service_areas"] == 4
    assert loaded["addresses"] == 3 and loaded["questions"] == 1

    again = run(city_app, "load", str(folder))

    assert again.exit_code == 0, again.output
    assert again.output.splitlines()[-1] == "Nothing changed."
    assert counts(city_app) == loaded


def test_history_is_closed_routed_and_dated_in_the_city_s_zone(city_app, folder):
    run(city_app, "load", str(folder))
    with city_app.app_context():
        rows = {r["external_id"]: r for r in get_db().query("""
            SELECT r.external_id, r.status, r.created_at, r.description, s.code AS service,
                   a.name AS area, r.address
            FROM reports r JOIN services s ON s.id = r.service_id
            JOIN service_areas a ON a.id = r.area_id""")}
    assert rows["oldsystem:H1"]["status"] == "closed"
    assert rows["oldsystem:H1"]["service"] == "roads" and rows["oldsystem:H1"]["area"] == "West"
    assert rows["oldsystem:H2"]["service"] == "parks" and rows["oldsystem:H2"]["area"] == "East"
    # 23:30 in Paris on 30 March 2024 (CET, UTC+1); 10:00 on 14 July (CEST, UTC+2).
    assert rows["oldsystem:H1"]["created_at"].startswith("2024-03-30T22:30:00")
    assert rows["oldsystem:H2"]["created_at"].startswith("2024-07-14T08:00:00")
    assert rows["oldsystem:H1"]["description"] == "Pothole at 1 Rue Carrée (old system H1)."
    assert rows["oldsystem:H3"]["address"]


def test_a_changed_boundary_file_is_a_new_version_and_reroutes(city_app, folder):
    run(city_app, "load", str(folder))
    (folder / "squares.geojson").write_text(json.dumps(squares(edge=1.4)))

    result = run(city_app, "load", str(folder))

    assert result.exit_code == 0, result.output
    assert "boundaries squares/roads: loaded as boundary version 3" in result.output
    assert "boundaries squares/parks: loaded as boundary version 4" in result.output
    assert "reports checked against boundary version 4: 3" in result.output
    assert "reports that move to another area: 1" in result.output
    assert "questions: unchanged" in result.output
    with city_app.app_context():
        row = get_db().execute("""
            SELECT a.name, r.boundary_version_id FROM reports r
            JOIN service_areas a ON a.id = r.area_id WHERE r.external_id = 'oldsystem:H3'
        """).fetchone()
        moved = get_db().execute("SELECT count(*) FROM report_events WHERE kind = 'rerouted'"
                                 ).fetchone()[0]
    assert tuple(row) == ("West", 4) and moved == 1
    assert run(city_app, "load", str(folder)).output.splitlines()[-1] == "Nothing changed."


def test_the_city_s_settings_reach_the_running_app_below_the_environment(city_app, folder):
    run(city_app, "load", str(folder))
    database = city_app.config["DATABASE"]

    restarted = create_app({"DATABASE": database, "SECRET_KEY": "test"})
    overridden = create_app({"DATABASE": database, "SECRET_KEY": "test", "TIME_ZONE": "UTC"})

    assert restarted.config["TIME_ZONE"] == "Europe/Paris"
    assert restarted.config["BABEL_DEFAULT_LOCALE"] == "fr"
    assert restarted.config["SITE_NAME"] == "Squareville"
    assert restarted.config["DATA_ATTRIBUTION"] == "Contains data from Squareville, ODbL"
    assert overridden.config["TIME_ZONE"] == "UTC"
    page = restarted.test_client().get("/")
    assert page.status_code == 200
    assert 'lang="fr"' in page.text and "Contains data from Squareville, ODbL" in page.text


def test_export_then_load_into_a_fresh_instance_gives_the_same_catalogue(
        city_app, folder, tmp_path):
    run(city_app, "load", str(folder))
    exported = tmp_path / "exported"

    result = run(city_app, "export", str(exported))

    assert result.exit_code == 0, result.output
    assert (exported / "city.toml").is_file()
    assert (exported / "boundaries" / "squares.geojson").is_file()
    other = fresh_app(tmp_path / "other")
    loaded = run(other, "load", str(exported))
    assert loaded.exit_code == 0, loaded.output
    assert catalogue(other) == catalogue(city_app)
    assert run(other, "load", str(exported)).output.splitlines()[-1] == "Nothing changed."


def test_an_export_is_a_valid_folder_whatever_the_names_hold(city_app, folder, tmp_path):
    quoted = CITY.replace('fr = "Voirie"', 'fr = "Voirie \\"centrale\\" \\\\ Nord"')
    write_folder(folder, quoted)
    run(city_app, "load", str(folder))
    run(city_app, "export", str(tmp_path / "exported"))
    text = (tmp_path / "exported" / "city.toml").read_text(encoding="utf-8")
    assert re.search(r'fr = "Voirie \\"centrale\\" \\\\ Nord"', text)
    read_city_folder(tmp_path / "exported", LANGUAGES)


def test_the_demo_city_is_a_folder_that_loads_as_the_demo_did(city_app):
    result = run(city_app, "load", str(DATA))
    assert result.exit_code == 0, result.output
    with city_app.app_context():
        db = get_db()
        layers = [row["layer"] for row in db.query(
            "SELECT layer FROM boundary_versions ORDER BY id")]
        services = {r["code"]: r["target_days"] for r in db.query(
            "SELECT code, target_days FROM services")}
        statuses = dict(db.execute("SELECT status, count(*) FROM reports GROUP BY status"))
        note = db.execute("SELECT public_note FROM report_events r JOIN reports USING (id) "
                          "WHERE r.kind = 'status' LIMIT 1").fetchone()
        first = db.execute("SELECT external_id, created_at FROM reports "
                           "WHERE external_id = 'la311:1-1523590121'").fetchone()
    assert layers == ["demo-sanitation", "demo-beautification", "demo-street-lighting",
                      "demo-street-services"]
    assert services == {"sanitation": 3, "beautification": 3, "street-lighting": 7,
                        "street-services": 14}
    assert sum(statuses.values()) == 1051 and set(statuses) <= {
        "new", "acknowledged", "fixed", "closed"}
    assert statuses["fixed"] > 0 and note is not None
    # '1/1/20 0:05' in Los Angeles (PST, UTC-8).
    assert tuple(first) == ("la311:1-1523590121", "2020-01-01T08:05:00+00:00")
    assert run(city_app, "load", str(DATA)).output.splitlines()[-1] == "Nothing changed."


TEXT = st.text(st.characters(blacklist_categories=("Cs", "Cc")), max_size=20)
VALUE = st.one_of(TEXT, st.integers(-10**6, 10**6), st.booleans(),
                  st.lists(TEXT, max_size=3), st.dictionaries(st.sampled_from("ab"), TEXT))
ENTRY = st.dictionaries(st.from_regex(r"[a-z_]{1,10}", fullmatch=True), VALUE, max_size=4)


@given(st.fixed_dictionaries({"city": ENTRY, "services": st.lists(ENTRY, max_size=3)}))
def test_the_toml_writer_gives_back_what_it_wrote(document):
    assert tomllib.loads(to_toml(document)) == {
        key: value for key, value in document.items() if value}


ANY = st.recursive(
    st.one_of(TEXT, st.integers(-5, 10**4), st.floats(allow_nan=True), st.booleans(),
              st.sampled_from(["squares", "roads", "pothole", "fr", "en", "Europe/Paris",
                               "squares.geojson", "history.csv", "label", "%Y-%m-%d"])),
    lambda inner: st.one_of(st.lists(inner, max_size=3),
                            st.dictionaries(st.sampled_from(["fr", "en", "a"]), inner,
                                            max_size=2)),
    max_leaves=6)


def table_of(name):
    keys = sorted(KEYS[name] | {"colour"})
    return st.dictionaries(st.sampled_from(keys), ANY, max_size=6)


@given(st.fixed_dictionaries({}, optional={
    name: (st.lists(table_of(name), max_size=2) if name in ("services", "categories",
                                                             "boundaries") else table_of(name))
    for name in sorted(KEYS[""] - {""})}))
@settings(max_examples=150, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
def test_any_city_toml_is_read_or_refused_with_reasons_never_an_exception(folder, document):
    (folder / "city.toml").write_text(to_toml(document), encoding="utf-8")
    try:
        read_city_folder(folder, LANGUAGES)
    except CityFolderError as error:
        assert error.problems and all(str(p).startswith(("city.toml", "history.csv",
                                                          "questions.json", "squares"))
                                      for p in error.problems)
