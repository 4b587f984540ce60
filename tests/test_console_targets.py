"""Targets and due times across a daylight-saving change in TIME_ZONE (Los Angeles springs
forward on 2024-03-10 at 02:00), "due in" / "overdue by", Open311 expected_datetime, and the
daily overdue digest: the city's day, once per day even when run twice."""

from datetime import UTC, date, datetime

import pytest

from app import localtime
from app.dispatch.digests import send_digests
from app.storage import queue as staff_rows
from app.web.console_text import due_text
from app.web.db import get_db
from app.web.emails import EmailWriter
from app.web.local_time import city_zone
from tests.conftest import AuthActions
from tests.factories import make_app
from tests.test_dispatch import add

LOS_ANGELES = localtime.zone_named("America/Los_Angeles")
#: Saturday 2024-03-09 12:00 PST, the day before the clocks go forward.
SATURDAY_NOON = "2024-03-09T20:00:00+00:00"


@pytest.fixture
def la_app(tmp_path):
    return make_app(tmp_path, TIME_ZONE="America/Los_Angeles",
                    PUBLIC_URL="https://fix.city.example")


def report_at(app, created_at, **fields):
    report_id = add(app.test_client(), **fields)
    with app.app_context():
        db = get_db()
        db.execute("UPDATE reports SET created_at = ? WHERE id = ?", [created_at, report_id])
        db.conn.commit()
    return report_id


def set_target(app, *args):
    result = app.test_cli_runner().invoke(args=["targets", "set", *args])
    assert result.exit_code == 0, result.output
    return result


def test_the_targets_cli_sets_lists_and_refuses_nonsense(app, runner):
    set_target(app, "pothole", "--acknowledge-hours", "4", "--fix-hours", "72")
    set_target(app, "pothole", "--service", "lights", "--fix-hours", "24")
    listed = runner.invoke(args=["targets", "list"]).output
    assert "pothole (every service): acknowledge 4.0 h, fix 72.0 h" in listed
    assert "pothole (lights): acknowledge - h, fix 24.0 h" in listed
    for args, message in [
        (["holes", "--fix-hours", "3"], "There is no category 'holes'."),
        (["pothole", "--service", "parks", "--fix-hours", "3"], "no service 'parks'"),
        (["pothole"], "Give the hours to acknowledge, to fix, or both."),
        (["pothole", "--fix-hours", "0"], "Hours must be a number above 0"),
        (["pothole", "--fix-hours", "nan"], "Hours must be a number above 0"),
    ]:
        result = runner.invoke(args=["targets", "set", *args])
        assert result.exit_code != 0 and message in result.output, args
    with app.app_context():
        assert get_db().execute("SELECT count(*) FROM report_targets").fetchone()[0] == 2


def test_due_times_are_elapsed_hours_shown_in_the_citys_time_across_the_dst_change(la_app):
    set_target(la_app, "pothole", "--acknowledge-hours", "2", "--fix-hours", "24")
    report_id = report_at(la_app, SATURDAY_NOON)
    with la_app.app_context():
        found = staff_rows.report(get_db(), report_id)
    assert found["acknowledge_due_at"] == "2024-03-09T22:00:00+00:00"
    assert found["fix_due_at"] == "2024-03-10T20:00:00+00:00", "24 real hours"
    assert (found["due_at"], found["due_kind"]) == ("2024-03-09T22:00:00+00:00", "acknowledge")
    client = la_app.test_client()
    auth = AuthActions(la_app, client)
    auth.login(auth.create("roads@city.example"))
    page = client.get(f"/dispatch/reports/{report_id}").get_data(as_text=True)
    assert "Mar 9, 2024, 2:00\u202fPM PST" in page or "Mar 9, 2024, 2:00 PM PST" in page
    assert "Mar 10, 2024, 1:00\u202fPM PDT" in page or "Mar 10, 2024, 1:00 PM PDT" in page, \
        "noon on Saturday plus 24 hours is 1 pm on Sunday, after the change"
    client.post(f"/dispatch/reports/{report_id}/status", data={"status": "acknowledged"})
    with la_app.app_context():
        found = staff_rows.report(get_db(), report_id)
    assert (found["due_at"], found["due_kind"]) == ("2024-03-10T20:00:00+00:00", "fix")


def test_a_services_own_target_wins_over_the_categorys(app):
    set_target(app, "pothole", "--fix-hours", "72")
    roads = report_at(app, SATURDAY_NOON)
    lights = report_at(app, SATURDAY_NOON, lon="1.5")
    set_target(app, "pothole", "--service", "lights", "--fix-hours", "24")
    with app.app_context():
        db = get_db()
        assert staff_rows.report(db, roads)["fix_due_at"] == "2024-03-12T20:00:00+00:00"
        assert staff_rows.report(db, lights)["fix_due_at"] == "2024-03-10T20:00:00+00:00"


@pytest.mark.parametrize(("due_at", "now", "words"), [
    ("2024-03-10T20:00:00+00:00", "2024-03-10T17:00:00+00:00", "due in 3 hours"),
    ("2024-03-10T20:00:00+00:00", "2024-03-12T20:00:00+00:00", "overdue by 2 days"),
    ("2024-03-10T20:00:00+00:00", "2024-03-10T20:30:00+00:00", "overdue by 30 minutes"),
])
def test_due_in_and_overdue_by(la_app, due_at, now, words):
    with la_app.test_request_context():
        assert due_text(due_at, datetime.fromisoformat(now)) == words


def test_due_today_is_the_citys_day_of_23_hours_on_the_change(la_app):
    set_target(la_app, "pothole", "--fix-hours", "1")
    # Fix due 23:30 PDT on Sunday 10 March (06:30 UTC Monday) and 00:30 PDT on Monday.
    late_sunday = report_at(la_app, "2024-03-11T05:30:00+00:00")
    early_monday = report_at(la_app, "2024-03-11T06:30:00+00:00")
    # 23:30 PST on Saturday: the day before.
    saturday = report_at(la_app, "2024-03-10T06:30:00+00:00")
    sunday = date(2024, 3, 10)
    with la_app.app_context():
        selection = staff_rows.QueueFilter(
            due_from=localtime.day_start(sunday, LOS_ANGELES),
            due_before=localtime.next_day_start(sunday, LOS_ANGELES))
        found = [r["id"] for r in staff_rows.queue(get_db(), selection, 0, 10)]
    assert selection.due_from == "2024-03-10T08:00:00+00:00"
    assert selection.due_before == "2024-03-11T07:00:00+00:00"
    assert found == [late_sunday]
    assert early_monday not in found and saturday not in found


def test_open311_expected_datetime_is_the_fix_due_time(app, client):
    report_id = report_at(app, SATURDAY_NOON)
    record = client.get(f"/open311/v2/requests/{report_id}.json").get_json()[0]
    assert record["expected_datetime"] is None
    set_target(app, "pothole", "--fix-hours", "36")
    record = client.get(f"/open311/v2/requests/{report_id}.json").get_json()[0]
    assert record["expected_datetime"] == "2024-03-11T08:00:00+00:00"


def digest_rows(app):
    with app.app_context():
        return list(get_db().query("SELECT * FROM outbox WHERE purpose = 'overdue_digest' "
                                   "ORDER BY id"))


def run_digest(app, at):
    with app.app_context():
        return send_digests(get_db(), EmailWriter(app), city_zone(), at=datetime.fromisoformat(at))


def test_the_digest_goes_once_per_city_day_across_the_dst_change(la_app):
    runner = la_app.test_cli_runner()
    runner.invoke(args=["services", "set", "roads", "--email", "roads-team@city.example"])
    set_target(la_app, "pothole", "--fix-hours", "1")
    first = report_at(la_app, "2024-03-09T18:00:00+00:00")      # fix due 11:00 PST Saturday
    # 23:30 PST on Saturday, then again a minute later.
    assert [d.overdue for d in run_digest(la_app, "2024-03-10T07:30:00+00:00")] == [1]
    assert run_digest(la_app, "2024-03-10T07:31:00+00:00") == []
    second = report_at(la_app, "2024-03-10T07:45:00+00:00")     # due 00:45 PST Sunday
    # 00:50 PST Sunday: a new day in Los Angeles (not yet in UTC terms of the last run).
    [sunday] = run_digest(la_app, "2024-03-10T08:50:00+00:00")
    assert (sunday.overdue, sunday.newly_overdue) == (2, 1)
    # 23:30 PDT Sunday: the same (23-hour) day, so nothing more.
    assert run_digest(la_app, "2024-03-11T06:30:00+00:00") == []
    rows = digest_rows(la_app)
    assert [r["recipient"] for r in rows] == ["roads-team@city.example"] * 2
    body = rows[1]["body"]
    since = body.index("Overdue since the last digest")
    before = body.index("Overdue before the last digest")
    assert since < body.index(f"#{second} Pothole") < before < body.index(f"#{first} Pothole")
    assert "assigned to nobody" in body
    assert rows[1]["subject"] == "Roads department: 2 reports overdue on Mar 10, 2024"


def test_the_digest_command_twice_on_a_day_sends_once_to_the_services_staff(app, client, auth,
                                                                           smtp):
    app.config.update(MAIL_SERVER="127.0.0.1", MAIL_PORT=smtp.port)
    set_target(app, "pothole", "--acknowledge-hours", "1")
    report_id = report_at(app, datetime(2020, 1, 1, tzinfo=UTC).isoformat())
    auth.login("roads@city.example")
    client.post(f"/dispatch/reports/{report_id}/assign", data={"assignee": "roads@city.example"})
    runner = app.test_cli_runner()
    once = runner.invoke(args=["digests", "send"])
    assert once.exit_code == 0 and "roads: 1 overdue (1 new) to roads@city.example." in \
        once.output
    twice = runner.invoke(args=["digests", "send"])
    assert "Queued 0 digest(s)" in twice.output
    assert runner.invoke(args=["outbox", "send"]).exit_code == 0
    [message] = [m for m in smtp.messages if "overdue" in m["Subject"]]
    assert message["To"] == "roads@city.example"
    assert f"#{report_id} Pothole, 0.500000, 0.500000: overdue by" in message.get_content()
    assert "assigned to roads@city.example" in message.get_content()
