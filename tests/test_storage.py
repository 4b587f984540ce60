"""The database: built by migrations only, WAL and foreign keys on."""

import sqlite3

import pytest

from app.storage import open_database, pending_migrations, upgrade
from migrations import migrations


def test_migrations_build_the_schema_and_are_idempotent(tmp_path):
    db = open_database(tmp_path / "fresh.sqlite3")
    assert pending_migrations(db) == [m.name for m in migrations._migrations]
    upgrade(db)
    assert upgrade(db) == []
    assert {"services", "categories", "boundary_versions", "service_areas",
            "service_area_categories", "reports", "photos", "report_events"} <= set(
        db.table_names())


def test_wal_and_foreign_keys(tmp_path):
    db = open_database(tmp_path / "db.sqlite3")
    upgrade(db)
    assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    with pytest.raises(sqlite3.IntegrityError):
        db.execute("INSERT INTO photos (report_id, position, display_name, thumb_name, width, "
                   "height, created_at) VALUES (999, 0, 'a', 'b', 1, 1, 'now')")


def test_migration_names_are_in_file_order():
    names = [m.name for m in migrations._migrations]
    assert names == sorted(names) and names[0] == "m001_initial"
