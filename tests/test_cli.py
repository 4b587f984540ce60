"""The CLI through the app: migrations, boundary loads and the demo city."""

import json

import shapely

from app.storage import areas as area_rows
from app.storage import row_counts
from app.web.db import get_db
from tests.test_report_flow import post

AREA_TABLES = ("services", "categories", "boundary_versions", "service_areas",
               "service_area_categories")


def write_layer(path, features):
    path.write_text(json.dumps({"type": "FeatureCollection", "features": [
        {"type": "Feature", "properties": props, "geometry": shapely.geometry.mapping(geom)}
        for props, geom in features
    ]}))
    return path


def area_counts(app):
    with app.app_context():
        return row_counts(get_db(), AREA_TABLES)


def test_db_upgrade_reports_nothing_pending(runner):
    result = runner.invoke(args=["db", "upgrade"])
    assert result.exit_code == 0
    assert "Applied 0 migration(s)." in result.output


def test_areas_load_with_service_field_creates_services_and_a_version(app, runner, tmp_path):
    path = write_layer(tmp_path / "wards.geojson", [
        ({"dept": "north-yard", "name": "North"}, shapely.box(10, 10, 11, 11)),
        ({"dept": "south-yard", "name": "South"}, shapely.box(10, 9, 11, 10)),
    ])
    result = runner.invoke(args=["areas", "load", str(path), "--service-field", "dept",
                                 "--categories", "dumping,bins", "--priority", "2"])
    assert result.exit_code == 0, result.output
    assert "features read: 2" in result.output
    assert "Loaded as boundary version 2." in result.output
    with app.app_context():
        router = app.extensions["router_cache"].get(get_db())
        assert router.version == 2
        assert router.route(10.5, 10.5, "bins").service == "north-yard"
        assert router.route(10.5, 9.5, "dumping").area.name == "South"
    listing = runner.invoke(args=["areas", "list"]).output
    assert "v2 wards (in force): 2 areas, services north-yard,south-yard" in listing


def test_loading_a_layer_again_retires_the_old_version(app, runner, tmp_path):
    for number in (1, 2):
        path = write_layer(tmp_path / "zone.geojson", [({}, shapely.box(5, 5, 5 + number, 6))])
        runner.invoke(args=["areas", "load", str(path), "--service", "parks",
                            "--categories", "litter"])
    listing = runner.invoke(args=["areas", "list"]).output
    assert "v2 zone (retired)" in listing and "v3 zone (in force)" in listing
    with app.app_context():
        assert app.extensions["router_cache"].get(get_db()).route(6.5, 5.5, "litter")


def test_bad_boundary_file_changes_nothing(app, runner, tmp_path):
    before = area_counts(app)
    feet = write_layer(tmp_path / "feet.geojson", [({}, shapely.box(6.4e6, 1.8e6, 6.5e6, 1.9e6))])
    result = runner.invoke(args=["areas", "load", str(feet), "--service", "x",
                                 "--categories", "y"])
    assert result.exit_code != 0
    assert "--crs" in result.output
    missing_field = runner.invoke(args=["areas", "load", str(feet), "--service-field", "nope",
                                        "--categories", "y", "--crs", "EPSG:2229"])
    assert "has no field 'nope'" in missing_field.output
    assert area_counts(app) == before


def test_demo_load_is_idempotent(app, runner):
    first = runner.invoke(args=["demo", "load"])
    assert first.exit_code == 0, first.output
    assert "4 new service-area layer(s)" in first.output
    with app.app_context():
        counts = row_counts(get_db())
        version = area_rows.current_version(get_db())
    assert counts["reports"] >= 1000
    again = runner.invoke(args=["demo", "load"])
    assert "0 new service-area layer(s), 0 report(s) imported" in again.output
    with app.app_context():
        assert row_counts(get_db()) == counts
        assert area_rows.current_version(get_db()) == version


def test_running_app_picks_up_a_new_version_and_reports_keep_theirs(app, client, runner,
                                                                     tmp_path):
    first = post(client).headers["Location"]
    big = shapely.box(-1, -1, 3, 3)
    path = write_layer(tmp_path / "override.geojson", [({"name": "Big"}, big)])
    result = runner.invoke(args=["areas", "load", str(path), "--service", "county",
                                 "--categories", "pothole", "--priority", "9"])
    assert result.exit_code == 0, result.output
    second = post(client).headers["Location"]
    assert "county" in client.get(second).get_data(as_text=True)
    assert "Roads department" in client.get(first).get_data(as_text=True)
    with app.app_context():
        versions = [row[0] for row in get_db().execute(
            "SELECT boundary_version_id FROM reports ORDER BY id")]
    assert versions == [1, 2]
