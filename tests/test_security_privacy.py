"""Issue 13, points 8, 11 and 12, each proven by running the attack.

8: after a privacy erase or the retention run, an address and a name are in no byte of the
database files (main file, WAL, shared memory), outbox bodies included. 11: "me too" with an
e-mail answers every address alike and moves the public count only when the mailbox's owner
confirms (a POST, not the GET a mail scanner makes), once per mailbox however it is spelled;
the support keeps no address in clear. 12: asking again for an unconfirmed alert queues one
confirmation a day, and confirmations of every kind to one mailbox share a daily budget,
whatever alert or report the attacker picks.
"""

import json
import re
import sqlite3
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from app.maintenance import scrubbed
from app.messaging.confirmations import mailbox_key
from app.messaging.message_headers import mailbox
from app.messaging.notify import plan_notifications
from app.reporting.supports import email_key
from app.web.db import get_db
from app.web.emails import EmailWriter
from tests import engines
from tests.factories import without_random_values
from tests.test_outbox import mail_app, new_report, send

PERSON = "quentin.vexmoor+city@example.org"
NAME = "Quentin Vexmoor"
OTHER = "someone.else@example.org"
ROADS = "roads@city.example"
SECRET_KEY = "test"  # make_app's


def database_path(app):
    return Path(app.config["DATABASE"])


def database_files(app):
    """What the database holds, to search: on SQLite its file and WAL and shared-memory
    files as they are on disk, deleted content included; on PostgreSQL every table's rows
    as text (a server's own files are not read)."""
    if engines.current.name == "postgresql":
        with app.app_context():
            db = get_db()
            return {table: "\n".join(row[0] for row in db.execute(
                f"SELECT CAST(t AS text) FROM [{table}] t")).encode()
                for table in db.table_names()}
    path = database_path(app)
    return {p.name: p.read_bytes() for p in (path, Path(f"{path}-wal"), Path(f"{path}-shm"))
            if p.exists()}


def traces(app, *secrets):
    """Which of ``secrets`` appear, in any letter case, in which database file."""
    return {(name, secret) for name, data in database_files(app).items() for secret in secrets
            if data.lower().find(secret.lower().encode()) != -1}


@pytest.fixture
def server_connection(app_with_service):
    """A connection held open, as a running web server's would be: without it the last
    connection to close would checkpoint and delete the WAL by itself (SQLite's alone)."""
    if engines.current.name == "postgresql":
        yield None
        return
    connection = sqlite3.connect(database_path(app_with_service))
    connection.execute("SELECT count(*) FROM reports").fetchone()
    yield connection
    connection.close()


@pytest.fixture
def app_with_service(tmp_path, smtp, webhook):
    app = mail_app(tmp_path, smtp.port)
    result = app.test_cli_runner().invoke(
        args=["services", "set", "roads", "--email", ROADS, "--webhook", webhook.url])
    assert result.exit_code == 0, result.output
    return app


def ask_for_alert(app, report_id, email):
    return app.test_client().post(f"/reports/{report_id}/subscribe", data={"email": email})


def support(app, report_id, email=None, client=None):
    client = client or app.test_client()
    return client.post(f"/api/reports/{report_id}/support",
                       data={"email": email} if email else {})


def plan(app):
    """Turn new events into outbox messages, as the worker does, without sending them."""
    with app.app_context():
        return plan_notifications(get_db(), EmailWriter(app))


def leave_a_trail(app, smtp):
    """A person's report (name shown), a confirmed support and an alert request of theirs,
    messages about it already sent to the service and others still pending; and someone
    else's."""
    theirs = new_report(app, email=PERSON, name=NAME, show_name="yes")
    other = new_report(app, email=OTHER, name="Other Person", lon="0.4")
    assert support(app, other, PERSON).status_code == 200
    assert ask_for_alert(app, other, PERSON).status_code == 303
    send(app)  # delivered: the service's e-mail and webhook, the private link, confirmations
    press_confirm(app, support_path(smtp, PERSON))
    later = new_report(app, email=PERSON, name=NAME, description="Second hole")
    assert plan(app) > 0  # planned, not sent: the second report's delivery is still owed
    return theirs, later


def pending_about(app, report_id):
    with app.app_context():
        return list(get_db().query(
            "SELECT channel, recipient, body FROM outbox WHERE report_id = ? "
            "AND state = 'pending' AND purpose = 'report'", [report_id]))


def test_erase_leaves_no_byte_of_the_address_or_name_in_the_database_files(
        app_with_service, server_connection, smtp, webhook):
    app = app_with_service
    _, later = leave_a_trail(app, smtp)
    hashed = email_key(PERSON, SECRET_KEY)
    assert traces(app, PERSON, NAME), "the trail is in the files before the erasure"
    assert [m["channel"] for m in pending_about(app, later)] == ["email", "webhook"]

    result = app.test_cli_runner().invoke(args=["privacy", "erase", "--email", PERSON.upper()])

    assert result.exit_code == 0, result.output
    assert "from 2 report(s), 1 support(s), 1 alert subscription(s)" in result.output
    assert traces(app, PERSON, NAME, "Vexmoor", hashed) == set()
    assert traces(app, OTHER), "someone else's contact stays"
    owed = pending_about(app, later)
    assert [m["recipient"] for m in owed] == [ROADS, webhook.url]
    send(app)
    to_service = smtp.to(ROADS)[-1].get_content()
    assert "Second hole" in to_service and "[erased]" in to_service
    assert PERSON not in to_service and NAME not in to_service
    delivered = webhook.calls[-1]["json"]["report"]
    assert delivered["description"] == "Second hole"
    assert delivered["reporter_email"] is None and delivered["reporter_name"] is None


def test_retention_leaves_no_byte_of_old_contacts_in_the_database_files(
        app_with_service, server_connection, smtp):
    app = app_with_service
    theirs, later = leave_a_trail(app, smtp)
    recent = new_report(app, email=OTHER, description="Recent")
    with app.app_context():
        db = get_db()
        old = "'2020-01-01T00:00:00+00:00'"
        db.execute(f"UPDATE reports SET created_at = {old} WHERE id IN (?, ?)", [theirs, later])
        db.execute(f"UPDATE supports SET created_at = {old}")
        db.execute(f"UPDATE subscriptions SET created_at = {old}, "
                   f"confirmation_sent_at = {old}")
        db.execute(f"UPDATE outbox SET created_at = {old} WHERE state = 'sent'")
    hashed = email_key(PERSON, SECRET_KEY)
    assert traces(app, PERSON, NAME, hashed)

    result = app.test_cli_runner().invoke(args=["privacy", "retention"])

    assert result.exit_code == 0, result.output
    # 8 sent long ago (two confirmations), and the second report's private link still
    # waiting for its reporter
    assert ("Anonymised 2 report(s) older than 24 month(s); deleted 9 sent or failed outbox "
            "message(s) as old; cleared the e-mail of 1 support(s); deleted 1 unconfirmed"
            ) in result.output
    assert traces(app, PERSON, NAME, "Vexmoor", hashed) == set()
    assert [m["channel"] for m in pending_about(app, later)] == ["email", "webhook"]
    with app.app_context():
        assert get_db().execute("SELECT reporter_email FROM reports WHERE id = ?",
                                [recent]).fetchone()[0] == OTHER


def test_retention_drops_unsubscribed_alerts_and_alerts_of_long_closed_reports(app):
    report_id = new_report(app, email=None)
    with app.app_context():
        db = get_db()
        for email, unsubscribed in (("gone@example.org", "'2026-01-01T00:00:00+00:00'"),
                                    ("fan@example.org", "NULL")):
            db.execute("INSERT INTO subscriptions (email, kind, report_id, token, created_at, "
                       f"confirmed_at, unsubscribed_at) VALUES (?, 'report', ?, ?, "
                       f"'2026-01-01T00:00:00+00:00', '2026-01-01T00:00:00+00:00', "
                       f"{unsubscribed})", [email, report_id, email])
    runner = app.test_cli_runner()
    assert "deleted 1 unconfirmed, unsubscribed" in runner.invoke(
        args=["privacy", "retention"]).output
    with app.app_context():
        get_db().execute("UPDATE reports SET status = 'fixed', "
                         "updated_at = '2020-01-01T00:00:00+00:00'")
    assert "deleted 1 unconfirmed, unsubscribed" in runner.invoke(
        args=["privacy", "retention"]).output
    with app.app_context():
        assert get_db().execute("SELECT count(*) FROM subscriptions").fetchone()[0] == 0


def test_scrubbing_replaces_the_contact_and_keeps_the_rest():
    message = {"channel": "webhook", "subject": "", "last_error": "refused jo@x.org",
               "headers": json.dumps({"X-Civic-Event": "report.created"}),
               "body": json.dumps({"report": {"reporter_name": "Jo Bloggs",
                                              "reporter_email": "JO@x.org",
                                              "description": "Jo Bloggs saw a Jolly hole."}})}
    subject, body, headers, last_error = scrubbed(message, {"Jo Bloggs", "jo@x.org", "J"})
    assert json.loads(body) == {"report": {"reporter_name": None, "reporter_email": None,
                                           "description": "[erased] saw a Jolly hole."}}
    assert (subject, headers, last_error) == (
        "", message["headers"], "refused [erased]")


@pytest.mark.only_engine("sqlite", reason="SQLite's secure_delete PRAGMA")
def test_every_connection_zeroes_deleted_content(app):
    with app.app_context():
        assert get_db().execute("PRAGMA secure_delete").fetchone()[0] == 1


# 11: "me too"

def support_path(smtp, address):
    """The confirmation link of the last "me too" e-mail to this address."""
    [message] = [m for m in smtp.to(address)
                 if m["Subject"] == "Confirm your \u201cme too\u201d"][-1:]
    return re.search(r"/supports/[\w-]+/confirm", message.get_content()).group(0)


def press_confirm(app, path):
    client = app.test_client()
    page = client.get(path).get_data(as_text=True)
    token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    return client.post(path, data={"csrf_token": token})


def public_count(app, report_id):
    return app.test_client().get("/api/reports.geojson?bbox=0,0,1,1").get_json()[
        "features"][0]["properties"]["supports"]


def probe(app, report_id):
    """The attack: three fresh sessions, the victim's address, a spelling of it, another."""
    answers = []
    for email in ("victim@example.org", "Victim+x@example.org", "other@example.org"):
        answer = support(app, report_id, email)
        answers.append((answer.status_code, answer.get_data(), public_count(app, report_id)))
    return answers


def test_me_too_answers_and_public_count_do_not_tell_who_supported(app_with_service, smtp):
    app = app_with_service
    report_id = new_report(app, email=None)
    before = probe(app, report_id)
    assert len(set(before)) == 1
    assert json.loads(before[0][1]) == {"id": report_id, "supports": 0,
                                        "confirm_by_email": True}
    send(app)
    press_confirm(app, support_path(smtp, "victim@example.org"))
    assert public_count(app, report_id) == 1, "the victim really supports it now"
    after = probe(app, report_id)
    assert len(set(after)) == 1 and after[0][2] == 1
    assert json.loads(after[0][1])["supports"] == 1


def test_confirming_counts_once_per_mailbox_and_never_from_a_get(app_with_service, smtp):
    app = app_with_service
    report_id = new_report(app, email=None)
    probe(app, report_id)
    send(app)
    victim, spelling, other = (support_path(smtp, address) for address in (
        "victim@example.org", "Victim+x@example.org", "other@example.org"))
    for path in (victim, spelling, other):
        assert app.test_client().get(path).status_code == 200  # a mail scanner
    assert public_count(app, report_id) == 0
    answers = [press_confirm(app, path) for path in (victim, spelling, victim)]
    assert len({without_random_values(a.get_data(as_text=True)) for a in answers}) == 1
    assert public_count(app, report_id) == 1, "one mailbox, however spelled, counts once"
    press_confirm(app, other)
    assert public_count(app, report_id) == 2


def test_the_report_page_answers_every_address_alike(app):
    report_id = new_report(app)
    support(app, report_id, "victim@example.org")
    pages = [app.test_client().post(f"/reports/{report_id}/support", data={"email": email},
                                    follow_redirects=True)
             for email in ("victim@example.org", "VICTIM+probe@example.org",
                           "other@example.org")]
    assert {p.status_code for p in pages} == {200}
    assert len({without_random_values(p.get_data(as_text=True)) for p in pages}) == 1
    assert "Open the link in it to confirm your \u201cme too\u201d" in pages[0].get_data(
        as_text=True)


def test_dots_still_count_apart_outside_gmail():
    assert mailbox("first.last@example.org") != mailbox("firstlast@example.org")
    assert mailbox("First.Last+tag@GoogleMail.com") == "firstlast@gmail.com"


def test_a_probed_address_is_kept_only_in_its_confirmation_e_mail(app):
    report_id = new_report(app)
    support(app, report_id, "probed.target@example.org")
    with app.app_context():
        db = get_db()
        [row] = db.query("SELECT * FROM supports")
        assert db.execute("SELECT count(*) FROM outbox WHERE recipient = ?",
                          ["probed.target@example.org"]).fetchone()[0] == 1
    assert "email" not in row and row["confirmed_at"] is None
    assert row["email_key"] == email_key("probed.target@example.org", SECRET_KEY)
    send(app)  # no mail server here: the e-mail fails, and stays until retention
    with app.app_context():
        get_db().execute("UPDATE outbox SET state = 'failed', created_at = "
                         "'2020-01-01T00:00:00+00:00'")
        get_db().execute("UPDATE supports SET created_at = '2020-01-01T00:00:00+00:00'")
    result = app.test_cli_runner().invoke(args=["privacy", "retention"])
    assert "1 unconfirmed support(s)" in result.output, result.output
    assert traces(app, "probed.target", row["email_key"]) == set()


# 12: repeated alert requests, and confirmations of every kind to one mailbox

def hours_ago(hours):
    """The stored ISO 8601 UTC text of that many hours ago."""
    return (datetime.now(UTC) - timedelta(hours=hours)).isoformat(timespec="seconds")


def confirmations(app, recipient=None):
    with app.app_context():
        recipients = [row[0] for row in get_db().execute(
            "SELECT recipient FROM outbox WHERE purpose = 'confirm'")]
    return sum(recipient in (None, to) for to in recipients)


def test_repeated_alert_requests_queue_one_confirmation_a_day(app):
    report_id = new_report(app, email=None)
    answers = [ask_for_alert(app, report_id, email) for email in (
        "fan@example.org", "FAN@example.org", "fan+1@example.org", "Fan+2@example.org",
        "fan@example.org")]
    assert {(a.status_code, a.headers["Location"]) for a in answers} == {
        (303, f"/reports/{report_id}")}
    assert confirmations(app) == 1
    with app.app_context():
        get_db().execute("UPDATE subscriptions SET confirmation_sent_at = ?", [hours_ago(25)])
    ask_for_alert(app, report_id, "fan@example.org")
    assert confirmations(app) == 2
    ask_for_alert(app, report_id, "other.fan@example.org")
    assert confirmations(app) == 3, "another mailbox gets its own"


def ask_for_radius_alert(app, radius, email):
    return app.test_client().post("/alerts", data={
        "kind": "radius", "lon": "0.5", "lat": "0.5", "radius": radius, "email": email})


def test_no_choice_of_alerts_or_reports_floods_a_mailbox(app_with_service, smtp):
    app = app_with_service
    budget = app.config["CONFIRMATIONS_PER_MAILBOX_PER_DAY"]
    reports = [new_report(app, email=None) for _ in range(3)]
    answers = [ask_for_radius_alert(app, radius, "victim@example.org")
               for radius in ("500", "500.001", "500.002", "501", "502", "503")]
    answers += [ask_for_alert(app, report_id, "Victim+follow@example.org")
                for report_id in reports]
    answers += [support(app, report_id, "victim@example.org") for report_id in reports]
    assert {a.status_code for a in answers} <= {200, 303}
    assert len({(a.status_code, a.headers.get("Location"), a.get_data())
                for a in answers[:6]}) == 1, "past the budget, the same answer"
    assert confirmations(app) == budget == 3
    ask_for_radius_alert(app, "500", "someone.else@example.org")
    assert confirmations(app, "someone.else@example.org") == 1, "another mailbox gets its own"

    send(app)
    to_victim = [m for m in smtp.messages if "victim" in m["To"].lower()]
    assert len(to_victim) == budget
    with app.app_context():
        keys = {row[0] for row in get_db().execute("SELECT mailbox_key FROM confirmation_budget")}
    assert keys == {mailbox_key("confirm", address, SECRET_KEY)
                    for address in ("victim@example.org", "someone.else@example.org")}


def test_retention_purges_spent_confirmation_budgets(app):
    report_id = new_report(app, email=None)
    ask_for_alert(app, report_id, "fan@example.org")
    with app.app_context():
        get_db().execute("UPDATE confirmation_budget SET sent_at = ?", [hours_ago(25)])
    app.test_cli_runner().invoke(args=["privacy", "retention"])
    with app.app_context():
        assert get_db().execute("SELECT count(*) FROM confirmation_budget").fetchone()[0] == 0
