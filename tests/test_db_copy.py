"""``db copy``: a city's SQLite data moved into PostgreSQL, checked, and served from there.

It needs a PostgreSQL server on either engine's run (``postgresql_server``): the source is a
SQLite file in both.
"""

import re

import pytest

from app import create_app
from app.demo import load_demo
from app.storage import dumps, open_database, upgrade
from app.storage.engine_copy import Checksum
from app.web.db import get_db
from tests import engines
from tests.test_report_flow import post

LINE = re.compile(r"^(\w+): (\d+) row\(s\), checksum ([0-9a-f]{32})$", re.MULTILINE)


def demo_app(folder, **config):
    """The demo city on a SQLite file in ``folder`` (whatever the run's engine)."""
    app = create_app({"TESTING": True, "SECRET_KEY": "t", "WTF_CSRF_ENABLED": False,
                      "RATE_LIMITS_ON": False, "DATABASE": str(folder / "demo.sqlite3"),
                      "PHOTO_STORE": str(folder / "photos"), "TIME_ZONE": "America/Los_Angeles",
                      "RATE_LIMIT_DATABASE": str(folder / "limits.sqlite3"), **config})
    with app.app_context():
        upgrade(get_db())
        load_demo(get_db())
    return app


@pytest.fixture
def empty_url(postgresql_server):
    with engines.empty_database(postgresql_server) as url:
        yield url


def table_check(db, table, columns):
    checksum = Checksum()
    for row in db.execute(f"SELECT {', '.join(columns)} FROM {table}"):
        checksum.add(row)
    return checksum.rows, checksum.hex


def test_the_demo_city_moves_to_postgresql_whole_and_serves_from_there(tmp_path, empty_url):
    source = demo_app(tmp_path)
    result = source.test_cli_runner().invoke(args=["db", "copy", "--to", empty_url])
    assert result.exit_code == 0, result.output
    copied = {name: (int(rows), checksum) for name, rows, checksum in LINE.findall(result.output)}
    assert {"reports", "report_events", "service_areas", "categories", "report_cells",
            "report_cell_totals", "stats_counts", "map_data_version"} <= set(copied)
    assert copied["reports"][0] > 1000

    target = open_database(empty_url)
    with source.app_context():
        sqlite_db = get_db()
        for table, expected in copied.items():
            columns = [row[1] for row in sqlite_db.execute(f"PRAGMA table_info({table})")]
            assert table_check(sqlite_db, table, columns) == expected, table
            assert table_check(target, table, columns) == expected, table
        largest = sqlite_db.execute("SELECT max(id) FROM reports").fetchone()[0]
    target.close()

    served = create_app({"TESTING": True, "SECRET_KEY": "t", "WTF_CSRF_ENABLED": False,
                         "RATE_LIMITS_ON": False, "DATABASE_URL": empty_url,
                         "PHOTO_STORE": str(tmp_path / "photos"),
                         "TIME_ZONE": "America/Los_Angeles"})
    client = served.test_client()
    assert client.get("/").status_code == 200
    assert client.get(f"/reports/{largest}").status_code == 200
    view = client.get("/api/reports.geojson?bbox=-118.7,33.7,-118.1,34.4")
    assert view.status_code == 200 and view.get_json()["features"]
    created = post(client, lon="-118.2500", lat="34.0500", category="sidewalk")
    assert created.status_code == 303
    assert created.headers["Location"].endswith(f"/reports/{largest + 1}")


def test_a_database_that_holds_tables_is_refused_and_left_as_it_was(tmp_path, empty_url):
    source = demo_app(tmp_path)
    target = open_database(empty_url)
    target.execute("CREATE TABLE notes (id bigint PRIMARY KEY)")
    target.close()
    result = source.test_cli_runner().invoke(args=["db", "copy", "--to", empty_url])
    assert result.exit_code != 0 and "already holds tables (notes" in result.output
    refused = source.test_cli_runner().invoke(args=["db", "copy", "--to", "mysql://x/y"])
    assert refused.exit_code != 0 and "postgresql://" in refused.output
    target = open_database(empty_url)
    assert dumps.tables_of_its_own(target) == ["notes"]
    target.close()


def test_a_copy_that_fails_midway_leaves_the_target_empty(tmp_path, empty_url):
    """A value PostgreSQL refuses (SQLite kept text in an integer column) stops the copy;
    the migrations run in the same transaction go too."""
    source = demo_app(tmp_path)
    with source.app_context():
        get_db().execute("UPDATE reports SET supports = 'many' WHERE id = "
                         "(SELECT max(id) FROM reports)")
        get_db().conn.commit()
    result = source.test_cli_runner().invoke(args=["db", "copy", "--to", empty_url])
    assert result.exit_code != 0 and "Nothing was kept" in result.output
    assert "many" in result.output
    target = open_database(empty_url)
    assert dumps.tables_of_its_own(target) == []
    target.close()
