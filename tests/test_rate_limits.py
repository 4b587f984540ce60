"""Rate limits are counted once for all server workers: in their own SQLite file, or in the
PostgreSQL database every app server shares."""

import json
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from app.storage.rate_limits import PostgresqlCounters, SqliteCounters
from app.web.db import get_db
from tests import engines
from tests.factories import make_app

ROOT = Path(__file__).resolve().parent.parent

WORKER = """
import json, sys
from app import create_app
app = create_app({"TESTING": True, "SECRET_KEY": "t", "WTF_CSRF_ENABLED": False,
                  "DATABASE": sys.argv[1], "RATE_LIMIT_DATABASE": sys.argv[2],
                  "DATABASE_URL": sys.argv[3], "LOGIN_RATE_LIMIT": "3 per minute"})
client = app.test_client()
print(json.dumps([client.post("/login", data={"email": "x@city.example",
                                               "password": "wrong password"}).status_code
                  for _ in range(int(sys.argv[4]))]))
"""


def login_attempts_in_a_new_process(app, attempts, rate_limit_database=None):
    """Failed logins from a new process: another worker, or on PostgreSQL another server."""
    database = str(Path(app.instance_path) / app.config["DATABASE"])
    result = subprocess.run(
        [sys.executable, "-c", WORKER, database,
         str(rate_limit_database or app.config["RATE_LIMIT_DATABASE"]),
         app.config.get("DATABASE_URL", ""), str(attempts)],
        cwd=ROOT, capture_output=True, text=True, timeout=120, check=True)
    return json.loads(result.stdout.splitlines()[-1])


def test_two_worker_processes_share_one_budget(app):
    """Per-process counting would give each worker its own 3 attempts."""
    assert login_attempts_in_a_new_process(app, 2) == [401, 401]
    assert login_attempts_in_a_new_process(app, 2) == [401, 429]


@pytest.mark.only_engine("postgresql", reason="app servers share the PostgreSQL database; "
                                              "SQLite's counters are one host's file")
def test_two_app_servers_on_one_database_share_one_budget(app, tmp_path):
    """Each server has its own instance folder (and its own SQLite counters file, unused)."""
    assert login_attempts_in_a_new_process(app, 2, tmp_path / "one.sqlite3") == [401, 401]
    assert login_attempts_in_a_new_process(app, 2, tmp_path / "two.sqlite3") == [401, 429]
    assert not (tmp_path / "one.sqlite3").exists() and not (tmp_path / "two.sqlite3").exists()


@pytest.fixture
def counters(app, tmp_path):
    """The counters storage of the run's engine, as the app configures it."""
    if engines.current.factory:
        storage = PostgresqlCounters(app.config["DATABASE_URL"])
    else:
        storage = SqliteCounters(SqliteCounters.uri(tmp_path / "limits.sqlite3"))
    yield storage
    storage.close()


def test_counters_add_up_reset_per_window_and_clear(counters):
    assert counters.check()
    assert [counters.incr("a", 60), counters.incr("a", 60, amount=2)] == [1, 3]
    assert counters.get("a") == 3 and counters.get("b") == 0
    assert counters.get_expiry("a") > counters.get_expiry("b")
    counters.incr("ended", 0)
    assert counters.get("ended") == 0 and counters.incr("ended", 60) == 1
    counters.clear("a")
    assert counters.get("a") == 0
    assert counters.reset() == 1 and counters.get("ended") == 0


@pytest.mark.only_engine("sqlite", reason="RATE_LIMIT_DATABASE is the SQLite counters' file; "
                                          "PostgreSQL counts in its own database")
def test_unusable_counters_do_not_stop_a_report(tmp_path):
    """Rate limiting fails open: a resident's report matters more than a counter."""
    (tmp_path / "not-a-file").mkdir()
    app = make_app(tmp_path, RATE_LIMITS_ON=True,
                   RATE_LIMIT_DATABASE=str(tmp_path / "not-a-file"))
    response = app.test_client().post("/report/new", data={
        "lon": "0.5", "lat": "0.5", "category": "pothole", "description": "Hole"})
    assert response.status_code == 303


def test_hits_from_many_threads_at_once_are_each_counted(counters):
    """The upsert counts atomically without the write lock: no hit lost, none twice."""
    start, counts = threading.Barrier(4), []

    def hit():
        start.wait()
        counts.extend(counters.incr("busy", 60) for _ in range(25))

    threads = [threading.Thread(target=hit) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert sorted(counts) == list(range(1, 101)) and counters.get("busy") == 100


def test_an_ended_window_starts_again_even_when_not_dropped_first(counters):
    counters.incr("a", 60, amount=5)
    counters.incr("b", 0)
    assert counters.incr("b", 60) == 1 and counters.get("a") == 5


@pytest.mark.only_engine("postgresql", reason="the counters' table is in the main database "
                                              "on PostgreSQL only")
def test_unusable_counters_in_the_database_do_not_stop_a_report(tmp_path):
    app = make_app(tmp_path, RATE_LIMITS_ON=True)
    with app.app_context():
        get_db().execute("DROP TABLE rate_limit_counters")
    response = app.test_client().post("/report/new", data={
        "lon": "0.5", "lat": "0.5", "category": "pothole", "description": "Hole"})
    assert response.status_code == 303
