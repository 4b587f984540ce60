import contextlib
import gc
import itertools
import os
from pathlib import Path

import pytest

from app import create_app
from app.demo import load_demo
from app.dispatch.accounts import create_staff_user
from app.storage import apikeys, row_counts, upgrade
from app.web.db import get_db
from tests import engines
from tests.factories import OPEN311_KEY, make_app
from tests.live import LiveServer
from tests.loopback import guard
from tests.receivers import SmtpSink, WebhookSink

PARIS = Path(__file__).resolve().parent.parent / "cities" / "paris"


def pytest_addoption(parser):
    parser.addoption(
        "--engine", choices=("sqlite", "postgresql"), default="sqlite",
        help="database engine of every app the tests build: sqlite (files, the default) or "
             "postgresql (TEST_DATABASE_URL's server, else a throwaway cluster on a unix "
             "socket)")


_engine_stack = contextlib.ExitStack()
_finished_tests = itertools.count(1)


def pytest_configure(config):
    if config.getoption("--engine") == "postgresql":
        engines.current = _engine_stack.enter_context(
            engines.postgresql_engine(os.environ.get("TEST_DATABASE_URL")))


def pytest_unconfigure(config):
    _engine_stack.close()


def pytest_report_header(config):
    return f"database engine: {engines.current.name}"


def pytest_runtest_teardown(item, nextitem):
    """On PostgreSQL, collect the finished tests' apps now and then, so their databases are
    dropped while the run goes on (tests/engines.py)."""
    if engines.current.factory and next(_finished_tests) % 16 == 0:
        gc.collect()


def pytest_runtest_setup(item):
    """``@pytest.mark.only_engine("sqlite", reason=...)``: skipped on the other engine."""
    marker = item.get_closest_marker("only_engine")
    if marker and marker.args[0] != engines.current.name:
        pytest.skip(f"{marker.args[0]} only: {marker.kwargs['reason']}")


@pytest.fixture(scope="session")
def postgresql_server():
    """The URL of a PostgreSQL + PostGIS server for tests that need one on either engine's
    run (the schema twins, ``db copy``): the run's own server, else a throwaway cluster."""
    if engines.current.factory:
        yield engines.current.factory.server_url
        return
    reason = engines.missing_postgresql()
    if reason:
        pytest.skip(reason)
    with engines.throwaway_cluster() as url:
        yield url


@pytest.fixture(scope="session", autouse=True)
def only_loopback_traffic():
    """Every test runs under the loopback guard (tests/loopback.py)."""
    with pytest.MonkeyPatch.context() as monkeypatch:
        guard(monkeypatch)
        yield


@pytest.fixture
def app(tmp_path):
    return make_app(tmp_path)


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def key(app):
    """An Open311 partner's API key, valid on the app."""
    with app.app_context():
        apikeys.create_key(get_db(), "tests", OPEN311_KEY)
    return OPEN311_KEY


@pytest.fixture
def runner(app):
    return app.test_cli_runner()


class AuthActions:
    """Log staff in and out through the real login form, as in Flask's tutorial."""

    PASSWORD = "correct horse battery"

    def __init__(self, app, client):
        self._app, self._client = app, client

    def create(self, email, role="dispatcher", services=("roads",)):
        with self._app.app_context():
            create_staff_user(get_db(), email, self.PASSWORD, role, services)
        return email

    def login(self, email="roads@city.example", password=PASSWORD):
        return self._client.post("/login", data={"email": email, "password": password})

    def logout(self):
        return self._client.post("/logout")


@pytest.fixture
def auth(app, client):
    actions = AuthActions(app, client)
    actions.create("roads@city.example", "dispatcher", ("roads",))
    actions.create("lights@city.example", "dispatcher", ("lights",))
    actions.create("admin@city.example", "admin", ())
    return actions


@pytest.fixture
def smtp():
    """A real SMTP server on 127.0.0.1 that keeps every message."""
    sink = SmtpSink().start()
    yield sink
    sink.stop()


@pytest.fixture
def webhook():
    """A real HTTP endpoint on 127.0.0.1 that records every webhook call."""
    sink = WebhookSink().start()
    yield sink
    sink.stop()


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


CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]


@pytest.fixture(scope="session")
def browser():
    """Debian's Chromium driven by Playwright; the tests using it skip when it is missing."""
    if not os.path.exists(CHROMIUM):
        pytest.skip(f"Chromium not found at {CHROMIUM}: install Debian's chromium to run "
                    "browser tests (apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS
        )
        yield browser
        browser.close()


@pytest.fixture(scope="session")
def demo_server(tmp_path_factory):
    """The demo city served for real on 127.0.0.1, shared by the browser tests."""
    folder = tmp_path_factory.mktemp("demo")
    app = create_app({
        "SECRET_KEY": "test",
        **engines.current.config(folder, "demo.sqlite3"),
        "PHOTO_STORE": str(folder / "photos"),
        "RATE_LIMIT_DATABASE": str(folder / "rate-limits.sqlite3"),
        "TILE_URL": "https://tiles.invalid/{z}/{x}/{y}.png",
        "TIME_ZONE": "America/Los_Angeles",
    })
    with app.app_context():
        upgrade(get_db())
        load_demo(get_db())
    with LiveServer(app) as server:
        yield server


@pytest.fixture(scope="session")
def paris_server(tmp_path_factory):
    """Paris (some 6,000 reports) set up from its folder alone with `city load`, then served
    on 127.0.0.1 by an app started on its database (which reads the city's settings); only
    the tile server is replaced for the tests. Shared by the browser tests."""
    folder = tmp_path_factory.mktemp("paris")
    config = {"SECRET_KEY": "test", **engines.current.config(folder, "paris.sqlite3"),
              "PHOTO_STORE": str(folder / "photos"),
              "RATE_LIMIT_DATABASE": str(folder / "rate-limits.sqlite3"),
              "TILE_URL": "https://tiles.invalid/{z}/{x}/{y}.png"}
    loader = create_app(config)
    with loader.app_context():
        upgrade(get_db())
    result = loader.test_cli_runner().invoke(args=["city", "load", str(PARIS)])
    assert result.exit_code == 0, result.output
    with LiveServer(create_app(config)) as server:
        yield server


DEMO_DISPATCHER = ("lights@demo.example", "street lamps after dark")


@pytest.fixture(scope="session")
def demo_dispatcher(demo_server):
    """A dispatcher of the demo city's street-lighting service."""
    with demo_server.app.app_context():
        create_staff_user(get_db(), *DEMO_DISPATCHER, "dispatcher", ["street-lighting"])
    return DEMO_DISPATCHER
