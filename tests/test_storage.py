"""The database: built by migrations only, foreign keys enforced, WAL on SQLite."""

import pytest

from app.storage import IntegrityError, open_database, pending_migrations, upgrade
from migrations import migrations
from tests import engines


@pytest.fixture
def fresh_db(tmp_path):
    """An empty database of the run's engine, not yet migrated."""
    config = engines.current.config(tmp_path, "fresh.sqlite3", migrated=False)
    db = open_database(config.get("DATABASE_URL") or config["DATABASE"])
    yield db
    db.close()


def test_migrations_build_the_schema_and_are_idempotent(fresh_db):
    assert pending_migrations(fresh_db) == [m.name for m in migrations._migrations]
    upgrade(fresh_db)
    assert upgrade(fresh_db) == []
    assert pending_migrations(fresh_db) == []
    assert {"services", "categories", "boundary_versions", "service_areas",
            "service_area_categories", "reports", "photos", "report_events"} <= set(
        fresh_db.table_names())


def test_foreign_keys_are_enforced(fresh_db):
    upgrade(fresh_db)
    with pytest.raises(IntegrityError):
        fresh_db.execute("INSERT INTO photos (report_id, position, display_name, thumb_name, "
                         "width, height, created_at) VALUES (999, 0, 'a', 'b', 1, 1, 'now')")


@pytest.mark.only_engine("sqlite", reason="the journal mode is a property of the SQLite file")
def test_sqlite_runs_in_wal_mode(fresh_db):
    upgrade(fresh_db)
    assert fresh_db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"


def test_migration_names_are_in_file_order():
    names = [m.name for m in migrations._migrations]
    assert names == sorted(names) and names[0] == "m001_initial"
