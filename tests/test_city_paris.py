"""Paris, set up from its folder alone (cities/paris), checked against the real DansMaRue
records: each routes to the arrondissement the city recorded, and its address, searched in
the gazetteer, finds its point."""

import csv
import re
from pathlib import Path

import pytest

from app import create_app
from app.reporting.places import default_gazetteer
from app.storage import distance_m, upgrade
from app.web.db import get_db

PARIS = Path(__file__).resolve().parent.parent / "cities" / "paris"
RECORDS = PARIS / "dansmarue_trottoirs.csv"


@pytest.fixture(scope="module")
def paris(tmp_path_factory):
    """An instance with the Paris folder loaded (once for the module: it takes seconds)."""
    folder = tmp_path_factory.mktemp("paris")
    app = create_app({"TESTING": True, "SECRET_KEY": "test",
                      "DATABASE": str(folder / "paris.sqlite3"),
                      "PHOTO_STORE": str(folder / "photos"),
                      "RATE_LIMIT_DATABASE": str(folder / "rate-limits.sqlite3")})
    with app.app_context():
        upgrade(get_db())
    result = app.test_cli_runner().invoke(args=["city", "load", str(PARIS)])
    assert result.exit_code == 0, result.output
    return app


@pytest.fixture(scope="module")
def records():
    with open(RECORDS, newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def arrondissement_of(area_name):
    """'9e arrondissement (Opéra)' -> 9."""
    return int(re.match(r"(\d+)", area_name).group(1))


def test_every_record_is_history_closed_by_the_road_service(paris, records):
    with paris.app_context():
        rows = list(get_db().query("""
            SELECT r.status, s.name AS service, c.code AS category FROM reports r
            JOIN services s ON s.id = r.service_id JOIN categories c ON c.id = r.category_id
            WHERE r.source = 'dansmarue'"""))
    assert len(records) == len(rows) == 6003
    assert {(r["status"], r["service"], r["category"]) for r in rows} == {
        ("closed", "Direction de la Voirie et des Déplacements", "trottoirs")}


def test_each_record_routes_to_its_recorded_arrondissement(paris, records):
    recorded = {f"dansmarue:{r['id_dmr']}": int(r["arrondissement"]) for r in records}
    with paris.app_context():
        routed = {row["external_id"]: arrondissement_of(row["name"]) for row in get_db().query(
            "SELECT r.external_id, a.name FROM reports r "
            "JOIN service_areas a ON a.id = r.area_id WHERE r.source = 'dansmarue'")}
    agree = sum(routed[key] == number for key, number in recorded.items())
    print(f"routed to the recorded arrondissement: {agree}/{len(recorded)} "
          f"({agree / len(recorded):.2%})")
    assert len(routed) == len(recorded)
    assert agree / len(recorded) >= 0.99


def test_each_record_s_address_finds_its_point_within_30_m(paris, records):
    with paris.app_context():
        gazetteer = default_gazetteer(get_db())
        found = 0
        for record in records:
            places = gazetteer.search(record["adresse"], limit=1)
            lon, lat = float(record["longitude"]), float(record["latitude"])
            if places and distance_m(places[0].lon, places[0].lat, lon, lat) <= 30:
                found += 1
    print(f"address found within 30 m: {found}/{len(records)} ({found / len(records):.2%})")
    assert found / len(records) >= 0.95


def test_the_running_city_speaks_french_in_paris_time_with_the_odbl_line(paris):
    restarted = create_app({"SECRET_KEY": "test", "DATABASE": paris.config["DATABASE"],
                            "RATE_LIMITS_ON": False,
                            "RATE_LIMIT_DATABASE": paris.config["RATE_LIMIT_DATABASE"]})
    assert restarted.config["TIME_ZONE"] == "Europe/Paris"
    page = restarted.test_client().get("/")
    assert page.status_code == 200
    assert '<html lang="fr"' in page.text
    assert "Contains data from Ville de Paris, ODbL" in page.text
    english = restarted.test_client().get("/", headers={"Accept-Language": "en"})
    assert '<html lang="en"' in english.text


def test_loading_paris_again_changes_nothing(paris):
    result = paris.test_cli_runner().invoke(args=["city", "load", str(PARIS)])
    assert result.exit_code == 0, result.output
    assert result.output.splitlines()[-1] == "Nothing changed."


def test_paris_exported_and_loaded_into_a_fresh_instance_is_the_same_city(paris, tmp_path):
    from tests.test_city_folder import catalogue, fresh_app, run

    exported = tmp_path / "paris-again"
    assert run(paris, "export", str(exported)).exit_code == 0
    other = fresh_app(tmp_path / "other")
    result = run(other, "load", str(exported))
    assert result.exit_code == 0, result.output
    assert catalogue(other) == catalogue(paris)
