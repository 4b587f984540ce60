"""The PostgreSQL twins (migrations/postgresql/*.sql) build the schema the SQLite migrations
build, and their triggers keep the same summaries.

Both engines are real: a throwaway PostgreSQL + PostGIS cluster started with
the run's (tests/engines.py), and a SQLite file migrated by ``app.storage.upgrade``. Without
PostgreSQL the tests skip and say why.
"""

import json
import re
from pathlib import Path

import pytest

from app.storage import open_database, upgrade
from tests.engines import with_database

ROOT = Path(__file__).resolve().parents[1]
MIGRATIONS = ROOT / "migrations"
TWINS = MIGRATIONS / "postgresql"

#: SQLite virtual tables (with their shadow tables, named after them) and what replaces
#: them on PostgreSQL.
REPLACED_TABLES = {
    "reports_rtree": "reports.geom (GiST)",
    "addresses_rtree": "addresses.geom (GiST)",
    "address_streets_fts": "address_streets.search_vector (GIN)",
}
#: Tables only SQLite has for its own bookkeeping.
SQLITE_ONLY_TABLES = {"_sqlite_migrations", "sqlite_sequence", "sqlite_stat1", "sqlite_stat4"}
#: Tables only PostgreSQL has, and why.
POSTGRESQL_ONLY_TABLES = {
    "spatial_ref_sys": "PostGIS's own table",
    "rate_limit_counters": "SQLite keeps the counters in their own file (RATE_LIMIT_DATABASE)",
}
#: Columns and indexes that stand in for the replaced tables.
POSTGRESQL_ONLY_COLUMNS = {
    "reports": {"geom"}, "addresses": {"geom"}, "address_streets": {"search_vector"}}
POSTGRESQL_ONLY_INDEXES = {"reports_geom", "addresses_geom", "address_streets_search"}

TYPES = {"INTEGER": "bigint", "REAL": "double precision", "TEXT": "text", "BLOB": "bytea"}


def migration_names():
    return sorted(p.stem for p in MIGRATIONS.glob("m[0-9]*.py"))


def twin_names():
    return sorted(p.stem for p in TWINS.glob("m[0-9]*.sql"))


def test_every_migration_has_a_twin_and_every_twin_a_migration():
    assert migration_names(), "no migrations found"
    assert twin_names() == migration_names()


# --- the two engines -------------------------------------------------------------------------

@pytest.fixture(scope="session")
def postgresql_url(postgresql_server):
    """A database of its own on the run's PostgreSQL server (tests/conftest.py)."""
    import psycopg

    with psycopg.connect(postgresql_server, autocommit=True) as admin:
        admin.execute("DROP DATABASE IF EXISTS twins WITH (FORCE)")
        admin.execute("CREATE DATABASE twins")
    yield with_database(postgresql_server, "twins")


def apply_twins(conn):
    """Every twin in name order, each in one transaction, as the migration runner does."""
    for name in twin_names():
        with conn.transaction():
            conn.execute((TWINS / f"{name}.sql").read_text())


@pytest.fixture(scope="session")
def pg(postgresql_url):
    """A connection to a database built by every twin, in order, one transaction each."""
    import psycopg

    with psycopg.connect(postgresql_url, autocommit=True) as conn:
        apply_twins(conn)
        yield conn


@pytest.fixture(scope="session")
def lite(tmp_path_factory):
    """A SQLite file built by the migrations, as the app builds it."""
    db = open_database(tmp_path_factory.mktemp("twins") / "twins.sqlite3")
    upgrade(db)
    yield db
    db.close()


# --- the schema ------------------------------------------------------------------------------

def _is_replaced(table):
    return any(table == name or table.startswith(name + "_") for name in REPLACED_TABLES)


def sqlite_tables(lite):
    names = {row[0] for row in lite.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    return {name for name in names if not _is_replaced(name)} - SQLITE_ONLY_TABLES


def pg_tables(pg):
    names = {row[0] for row in pg.execute(
        "SELECT table_name FROM information_schema.tables "
        "WHERE table_schema = 'public' AND table_type = 'BASE TABLE'")}
    return names - set(POSTGRESQL_ONLY_TABLES)


def sqlite_columns(lite, table):
    """[(name, type, not null, default)]: a primary key column is never null."""
    return [(name, TYPES[kind.upper()], bool(notnull or pk), default)
            for _, name, kind, notnull, default, pk
            in lite.execute("SELECT * FROM pragma_table_info(?)", [table])]


def _pg_default(default):
    """A column default as SQLite spells it: 'new'::text is 'new'."""
    return None if default is None else re.sub(r"::[a-z ]+$", "", default)


def pg_columns(pg, table):
    extra = POSTGRESQL_ONLY_COLUMNS.get(table, set())
    return [(name, kind, nullable == "NO", _pg_default(default))
            for name, kind, nullable, default in pg.execute(
                "SELECT column_name, data_type, is_nullable, column_default "
                "FROM information_schema.columns WHERE table_schema = 'public' "
                "AND table_name = %s ORDER BY ordinal_position", [table])
            if name not in extra]


def sqlite_indexes(lite, table):
    """{(columns, unique, partial)} of every index, primary keys included ('*' = expression)."""
    found = set()
    for _, name, unique, _, partial in lite.execute("SELECT * FROM pragma_index_list(?)", [table]):
        columns = tuple(column or "*" for _, _, column in
                        lite.execute("SELECT * FROM pragma_index_info(?)", [name]))
        found.add((columns, bool(unique), bool(partial)))
    key = tuple(name for pk, name in sorted(
        (pk, name) for _, name, _, _, _, pk in
        lite.execute("SELECT * FROM pragma_table_info(?)", [table])) if pk)
    if key:
        found.add((key, True, False))
    return found


PG_INDEXES = """
    SELECT i.relname, ix.indisunique, ix.indpred IS NOT NULL,
           array(SELECT coalesce(a.attname, '*')
                 FROM unnest(ix.indkey::int2[]) WITH ORDINALITY AS k (attnum, position)
                 LEFT JOIN pg_attribute a ON a.attrelid = ix.indrelid AND a.attnum = k.attnum
                 ORDER BY k.position),
           EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = ix.indexrelid)
    FROM pg_index ix JOIN pg_class i ON i.oid = ix.indexrelid
    JOIN pg_class t ON t.oid = ix.indrelid
    WHERE t.relname = %s AND t.relnamespace = 'public'::regnamespace
"""


def pg_indexes(pg, table):
    return {(tuple(columns), unique, partial)
            for name, unique, partial, columns, _ in pg.execute(PG_INDEXES, [table])
            if name not in POSTGRESQL_ONLY_INDEXES}


def sqlite_named_indexes(lite):
    """{name: table} of the indexes the migrations create by name."""
    tables = sqlite_tables(lite)
    return {name: table for name, table in lite.execute(
        "SELECT name, tbl_name FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL")
        if table in tables}


def pg_named_indexes(pg):
    """{name: table} of the indexes not made by a PRIMARY KEY or UNIQUE constraint."""
    return {name: table for table in pg_tables(pg)
            for name, _, _, _, by_constraint in pg.execute(PG_INDEXES, [table])
            if not by_constraint and name not in POSTGRESQL_ONLY_INDEXES}


def test_same_tables(lite, pg):
    assert pg_tables(pg) == sqlite_tables(lite)


def test_what_replaces_sqlite_virtual_tables_is_there(lite, pg):
    virtual = {row[0] for row in lite.execute(
        "SELECT name FROM sqlite_master WHERE type = 'table' AND sql LIKE 'CREATE VIRTUAL%'")}
    assert virtual == set(REPLACED_TABLES)
    for table, columns in POSTGRESQL_ONLY_COLUMNS.items():
        names = {row[0] for row in pg.execute(
            "SELECT column_name FROM information_schema.columns WHERE table_name = %s", [table])}
        assert columns <= names


def test_same_columns_in_the_same_order(lite, pg):
    for table in sorted(sqlite_tables(lite)):
        assert pg_columns(pg, table) == sqlite_columns(lite, table), table


def test_same_indexes_and_unique_column_sets(lite, pg):
    for table in sorted(sqlite_tables(lite)):
        assert pg_indexes(pg, table) == sqlite_indexes(lite, table), table
    assert pg_named_indexes(pg) == sqlite_named_indexes(lite)


def test_same_triggers(lite, pg):
    sqlite_triggers = set(lite.execute("SELECT name, tbl_name FROM sqlite_master "
                                       "WHERE type = 'trigger'"))
    pg_triggers = set(pg.execute("SELECT tgname, tgrelid::regclass::text FROM pg_trigger "
                                 "WHERE NOT tgisinternal"))
    assert pg_triggers == sqlite_triggers


def test_seed_rows_are_the_same(lite, pg):
    for table in ("report_cell_levels", "outbox_cursor", "stats_zone", "map_data_version"):
        query = f"SELECT * FROM {table} ORDER BY 1"
        assert pg.execute(query).fetchall() == lite.execute(query).fetchall(), table


def test_the_planner_knows_the_cell_levels_are_six_rows(pg):
    """Taken for 1,850 rows, the map triggers' upserts were compiled with JIT on every
    report inserted (~15 ms each)."""
    ((plan,),) = pg.execute("EXPLAIN (FORMAT JSON) SELECT * FROM report_cell_levels").fetchone()
    assert plan["Plan"]["Plan Rows"] == 6


def test_rate_limit_counters_are_an_unlogged_table(pg):
    (persistence,) = pg.execute(
        "SELECT relpersistence FROM pg_class WHERE relname = 'rate_limit_counters'").fetchone()
    assert persistence == "u"
    assert [row[0] for row in pg.execute(
        "SELECT column_name FROM information_schema.columns "
        "WHERE table_name = 'rate_limit_counters' ORDER BY ordinal_position")] == [
        "key", "count", "expires_at"]


# --- the triggers at work --------------------------------------------------------------------

#: The city's local days start at these UTC instants (Los Angeles around the March change).
CALENDAR = [("2024-03-09T08:00:00+00:00", "2024-03-09"), ("2024-03-10T08:00:00+00:00",
            "2024-03-10"), ("2024-03-11T07:00:00+00:00", "2024-03-11"),
            ("2024-03-12T07:00:00+00:00", "2024-03-12")]

REPORT = ("INSERT INTO reports (id, category_id, service_id, area_id, boundary_version_id, "
          "lon, lat, description, status, hidden, created_at, updated_at) "
          "VALUES (?, ?, 1, ?, 1, ?, ?, 'a hole', 'new', ?, ?, ?)")

MANY_REPORTS = ("INSERT INTO reports (id, category_id, service_id, area_id, "
                "boundary_version_id, lon, lat, description, status, hidden, created_at, "
                "updated_at, acknowledged_at, fixed_at) VALUES "
                + ", ".join(["(?, 1, 1, 1, 1, ?, ?, 'a hole', 'fixed', ?, ?, 't', "
                             "'2024-03-10T10:20:00+00:00', ?)"] * 3))

EVENT = ("INSERT INTO report_events (report_id, kind, actor, at, from_status, to_status) "
         "VALUES (?, ?, 'staff', ?, ?, ?)")

SCENARIO = [
    # The catalogue, a boundary, two areas and the local calendar.
    ("INSERT INTO services (id, code, name, created_at) VALUES (1, 'roads', 'Roads', 't')", []),
    *[("INSERT INTO categories (id, code, name, created_at) VALUES (?, ?, ?, 't')", row)
      for row in [(1, "pothole", "Pothole"), (2, "light", "Street light")]],
    ("INSERT INTO boundary_versions (id, layer, source, loaded_at, feature_count, report) "
     "VALUES (1, 'city', 'test', 't', 2, '{}')", []),
    *[("INSERT INTO service_areas (id, service_id, version_id, layer, name, size_m2, min_lon, "
       "min_lat, max_lon, max_lat, geometry) VALUES (?, 1, 1, 'city', ?, 1, -119, 33, -117, 35, "
       "?)", [area, name, b"\x01"]) for area, name in [(1, "North"), (2, "South")]],
    *[("INSERT INTO stats_calendar (starts_at, day) VALUES (?, ?)", row) for row in CALENDAR],
    # Four reports: two in one cell, one elsewhere, one hidden from the start (made as its
    # local day starts).
    (REPORT, [1, 1, 1, -118.25, 34.05, 0, "2024-03-10T07:30:00+00:00", "t"]),
    (REPORT, [2, 2, 1, -118.2501, 34.0501, 0, "2024-03-10T09:00:00+00:00", "t"]),
    (REPORT, [3, 1, 2, -117.9, 33.8, 0, "2024-03-11T01:00:00+00:00", "t"]),
    (REPORT, [4, 1, 2, -117.5, 33.5, 1, "2024-03-11T07:00:00+00:00", "t"]),
    # Three reports in one statement, as a bulk import inserts them: two in the same cell and
    # scopes, acknowledged and fixed already, and one hidden.
    (MANY_REPORTS, [n for report in [
        (5, -118.2502, 34.0502, 0, "2024-03-10T10:00:00+00:00", "2024-03-11T12:30:00+00:00"),
        (6, -118.2503, 34.0503, 0, "2024-03-10T10:00:00+00:00", "2024-03-11T12:30:00+00:00"),
        (7, -118.2504, 34.0504, 1, "2024-03-10T10:00:00+00:00", None)] for n in report]),
    # Report 1 acknowledged, fixed, reopened; events that change no status count for nothing.
    (EVENT, [1, "status", "2024-03-10T08:15:30+00:00", "new", "acknowledged"]),
    ("UPDATE reports SET status = 'acknowledged' WHERE id = 1", []),
    (EVENT, [1, "status", "2024-03-10T09:00:00+00:00", "acknowledged", "acknowledged"]),
    (EVENT, [1, "note", "2024-03-10T09:30:00+00:00", None, None]),
    (EVENT, [1, "status", "2024-03-12T10:15:00+00:00", "acknowledged", "fixed"]),
    ("UPDATE reports SET status = 'fixed' WHERE id = 1", []),
    (EVENT, [3, "status", "2024-03-12T11:36:00+00:00", "new", "fixed"]),
    ("UPDATE reports SET status = 'fixed' WHERE id = 3", []),
    (EVENT, [1, "status", "2024-03-12T12:00:00+00:00", "fixed", "in_progress"]),
    ("UPDATE reports SET status = 'in_progress' WHERE id = 1", []),
    # Report 2 hidden, report 4 shown, report 3 moved to another category and place.
    ("UPDATE reports SET hidden = 1 WHERE id = 2", []),
    ("UPDATE reports SET hidden = 0 WHERE id = 4", []),
    ("UPDATE reports SET category_id = 2, lon = -118.1, lat = 34.2 WHERE id = 3", []),
    # An update of columns no summary follows.
    ("UPDATE reports SET description = 'a deep hole' WHERE id = 1", []),
    # Supports: counted when given confirmed, or once when confirmed later.
    ("INSERT INTO supports (report_id, browser_token, confirmed_at, created_at) "
     "VALUES (1, 'b1', 't', 't')", []),
    ("INSERT INTO supports (report_id, email_key, confirm_token, created_at) "
     "VALUES (1, 'k2', 'c2', 't')", []),
    ("UPDATE supports SET confirmed_at = 't' WHERE confirm_token = 'c2'", []),
    ("UPDATE supports SET confirmed_at = 'u' WHERE confirm_token = 'c2'", []),
    # Photos: the map's thumbnail is the first visible one.
    *[("INSERT INTO photos (report_id, position, display_name, thumb_name, width, height, "
       "created_at) VALUES (1, ?, ?, ?, 1, 1, 't')", [position, f"d{position}.jpg",
                                                     f"t{position}.jpg"]) for position in (0, 1)],
    ("UPDATE photos SET hidden = 1 WHERE thumb_name = 't0.jpg'", []),
    # The catalogue's names reach the map too.
    ("INSERT INTO name_translations (kind, code, locale, name) "
     "VALUES ('category', 'pothole', 'es', 'Bache')", []),
    ("UPDATE categories SET name = 'Potholes'", []),
    # Two reports deleted.
    ("DELETE FROM report_events WHERE report_id IN (3, 4)", []),
    ("DELETE FROM reports WHERE id IN (3, 4)", []),
]

SUMMARIES = {
    "report_cells": "SELECT * FROM report_cells",
    "report_cell_totals": "SELECT * FROM report_cell_totals",
    "stats_counts": "SELECT * FROM stats_counts",
    "stats_times": "SELECT * FROM stats_times",
    "map_data_version": "SELECT n FROM map_data_version",
    "reports": "SELECT id, status, hidden, supports, acknowledged_at, fixed_at FROM reports",
}


#: map_features (m023) with each feature's stored text made whole (the names and links a
#: view adds left out): the engines write JSON with different spaces, so it is parsed.
MAP_FEATURES = ("SELECT cy, cx, id, lon, lat, created_at, status, category_id, service_id, "
                "thumb, head || tail || '}}' FROM map_features")


def _map_features(db):
    return _rows((*row[:-1], json.dumps(json.loads(row[-1]), sort_keys=True))
                 for row in db.execute(MAP_FEATURES).fetchall())


def _rows(rows):
    """Rows in one order, floats rounded past their noise, so both engines' rows compare."""
    return sorted(tuple(round(v, 9) if isinstance(v, float) else v for v in row)
                  for row in rows)


@pytest.fixture
def pg_scenario(postgresql_url):
    """A fresh database of its own built by the twins, so the scenario starts empty."""
    import psycopg

    with psycopg.connect(postgresql_url, autocommit=True) as admin:
        admin.execute("DROP DATABASE IF EXISTS scenario")
        admin.execute("CREATE DATABASE scenario")
    with psycopg.connect(postgresql_url.replace("/twins?", "/scenario?"),
                         autocommit=True) as conn:
        apply_twins(conn)
        yield conn


def test_trigger_kept_summaries_match(tmp_path, pg_scenario):
    lite = open_database(tmp_path / "scenario.sqlite3")
    upgrade(lite)
    for statement, params in SCENARIO:
        with lite.atomic():
            lite.execute(statement, params)
        with pg_scenario.transaction():
            pg_scenario.execute(statement.replace("?", "%s"), params)
    for name, query in SUMMARIES.items():
        expected = _rows(lite.execute(query).fetchall())
        assert expected, name
        assert _rows(pg_scenario.execute(query).fetchall()) == expected, name
    expected = _map_features(lite)
    assert {row[2]: row[-2] for row in expected} == {1: "t1.jpg", 5: None, 6: None}
    assert _map_features(pg_scenario) == expected
    lite.close()

