"""Each thread keeps its connection between requests, and that is invisible to requests:
nothing uncommitted survives a request, and a database file replaced under the app is read
from the new file at once."""

import threading
from pathlib import Path

import pytest

from app import maintenance
from app.storage import database_path, database_target, open_database, upgrade
from app.web.db import get_db


def connection_of_a_request(app):
    with app.test_request_context():
        return get_db().conn


def test_a_thread_keeps_its_connection_and_another_thread_has_its_own(app):
    first = connection_of_a_request(app)
    assert connection_of_a_request(app) is first
    elsewhere = []
    thread = threading.Thread(target=lambda: elsewhere.append(connection_of_a_request(app)))
    thread.start()
    thread.join()
    assert elsewhere[0] is not first


def test_what_a_request_leaves_uncommitted_is_rolled_back(app):
    with app.test_request_context():
        db = get_db()
        before = db.execute("SELECT count(*) FROM name_translations").fetchone()[0]
        db.execute("BEGIN")
        db.execute("INSERT INTO name_translations VALUES "
                   "('category', 'pothole', 'de', 'Schlagloch')")
    with app.test_request_context():
        db = get_db()
        assert not db.conn.in_transaction
        assert db.execute("SELECT count(*) FROM name_translations").fetchone()[0] == before


def test_a_restore_is_read_at_once_by_the_kept_connections(app, tmp_path):
    """``restore`` writes into the live database (SQLite's backup API into the file,
    pg_restore into the server's database), so the connections the app keeps read the
    restored data on their next request."""
    photos = tmp_path / "photos"
    with app.test_request_context():
        with get_db().atomic() as db:
            db.execute("INSERT INTO name_translations VALUES "
                       "('category', 'pothole', 'de', 'Gesichert')")
    maintenance.backup(database_target(app), photos, tmp_path / "backup")
    with app.test_request_context():
        kept = get_db().conn
        with get_db().atomic() as db:
            db.execute("UPDATE name_translations SET name = 'Danach' WHERE locale = 'de'")
    with app.test_request_context():
        changed = get_db().execute("SELECT name FROM name_translations WHERE locale = 'de'")
        assert changed.fetchone()[0] == "Danach"
    maintenance.restore(tmp_path / "backup", database_target(app), photos, force=True)
    with app.test_request_context():
        db = get_db()
        assert db.conn is kept
        name = db.execute("SELECT name FROM name_translations WHERE locale = 'de'").fetchone()
    assert name[0] == "Gesichert"


@pytest.mark.only_engine("sqlite", reason="a file unlinked under the app; a server "
                                           "database has no file")
def test_a_database_file_deleted_and_created_again_is_opened_again(app):
    """A connection kept on a file that was unlinked would write into the void."""
    kept = connection_of_a_request(app)
    path = database_path(app)
    for suffix in ("", "-wal", "-shm"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)
    with app.app_context():
        upgrade(open_database(path))
    with app.test_request_context():
        assert get_db().conn is not kept
        assert get_db().execute("SELECT count(*) FROM name_translations").fetchone()[0] == 0


def test_the_same_database_changed_by_another_connection_is_seen(app):
    connection_of_a_request(app)
    other = open_database(database_target(app))
    other.execute("INSERT INTO name_translations VALUES ('service', 'roads', 'de', 'Strassen')")
    other.conn.commit()
    other.close()
    with app.test_request_context():
        found = get_db().execute("SELECT name FROM name_translations WHERE locale = 'de'")
        assert found.fetchone()[0] == "Strassen"
