import pytest

from app import create_app
from app.db import get_db
from app.storage import row_counts, upgrade
from tests.factories import make_two_squares


@pytest.fixture
def app(tmp_path):
    app = create_app({
        "TESTING": True,
        "SECRET_KEY": "test",
        "DATABASE": str(tmp_path / "test.sqlite3"),
        "PHOTO_DIR": str(tmp_path / "photos"),
    })
    with app.app_context():
        upgrade(get_db())
        make_two_squares(get_db())
    return app


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def runner(app):
    return app.test_cli_runner()


@pytest.fixture
def db(app):
    with app.app_context():
        yield get_db()


@pytest.fixture
def snapshot(app, tmp_path):
    """Row counts and photo files now, to compare after a request that must store nothing."""

    def take():
        with app.app_context():
            counts = row_counts(get_db())
        files = sorted(p.name for p in (tmp_path / "photos").rglob("*") if p.is_file())
        return counts, files

    return take
