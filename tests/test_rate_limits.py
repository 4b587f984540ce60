"""Rate limits are counted once for all server workers, in their own SQLite file."""

import json
import subprocess
import sys
from pathlib import Path

from app.storage.rate_limits import SqliteCounters
from tests.factories import make_app

ROOT = Path(__file__).resolve().parent.parent

WORKER = """
import json, sys
from app import create_app
app = create_app({"TESTING": True, "SECRET_KEY": "t", "WTF_CSRF_ENABLED": False,
                  "DATABASE": sys.argv[1], "RATE_LIMIT_DATABASE": sys.argv[2],
                  "LOGIN_RATE_LIMIT": "3 per minute"})
client = app.test_client()
print(json.dumps([client.post("/login", data={"email": "x@city.example",
                                               "password": "wrong password"}).status_code
                  for _ in range(int(sys.argv[3]))]))
"""


def login_attempts_in_a_new_process(app, attempts):
    database = str(Path(app.instance_path) / app.config["DATABASE"])
    result = subprocess.run(
        [sys.executable, "-c", WORKER, database, app.config["RATE_LIMIT_DATABASE"],
         str(attempts)], cwd=ROOT, capture_output=True, text=True, timeout=120, check=True)
    return json.loads(result.stdout.splitlines()[-1])


def test_two_worker_processes_share_one_budget(app):
    """Per-process counting would give each worker its own 3 attempts."""
    assert login_attempts_in_a_new_process(app, 2) == [401, 401]
    assert login_attempts_in_a_new_process(app, 2) == [401, 429]


def test_counters_add_up_reset_per_window_and_clear(tmp_path):
    counters = SqliteCounters(SqliteCounters.uri(tmp_path / "limits.sqlite3"))
    assert counters.check()
    assert [counters.incr("a", 60), counters.incr("a", 60, amount=2)] == [1, 3]
    assert counters.get("a") == 3 and counters.get("b") == 0
    assert counters.get_expiry("a") > counters.get_expiry("b")
    counters.incr("ended", 0)
    assert counters.get("ended") == 0 and counters.incr("ended", 60) == 1
    counters.clear("a")
    assert counters.get("a") == 0
    assert counters.reset() == 1 and counters.get("ended") == 0


def test_unusable_counters_do_not_stop_a_report(tmp_path):
    """Rate limiting fails open: a resident's report matters more than a counter."""
    (tmp_path / "not-a-file").mkdir()
    app = make_app(tmp_path, RATE_LIMITS_ON=True,
                   RATE_LIMIT_DATABASE=str(tmp_path / "not-a-file"))
    response = app.test_client().post("/report/new", data={
        "lon": "0.5", "lat": "0.5", "category": "pothole", "description": "Hole"})
    assert response.status_code == 303
