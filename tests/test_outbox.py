"""Delivery through the outbox to real servers on 127.0.0.1: the service's e-mail and
webhook, the reporter's private link, retries while the SMTP server is down, and the
worker loop stopped and resumed."""

import contextlib
import hashlib
import hmac
import os
import signal
import subprocess
import sys
import threading
import time

import pytest

from app.storage import database_target, dialect, open_database
from app.storage import outbox as outbox_storage
from app.web.db import get_db
from tests.conftest import AuthActions
from tests.factories import make_app
from tests.receivers import SmtpSink, WebhookSink, free_port
from tests.test_report_flow import post

ROADS = "roads@city.example"
REPORTER = "ada@example.org"


def mail_app(tmp_path, port, **config):
    """Webhooks may go to 127.0.0.1 here: the test receivers listen there."""
    return make_app(tmp_path, MAIL_SERVER="127.0.0.1", MAIL_PORT=port,
                    PUBLIC_URL="https://fix.city.example", WEBHOOK_ALLOW_PRIVATE=True, **config)


def new_report(app, **fields):
    response = post(app.test_client(), **fields)
    assert response.status_code == 303, response.get_data(as_text=True)
    return int(response.headers["Location"].rsplit("/", 1)[1])


def send(app):
    result = app.test_cli_runner().invoke(args=["outbox", "send"])
    assert result.exit_code == 0, result.output
    return result.output


def configure(app, *args):
    result = app.test_cli_runner().invoke(args=["services", "set", "roads", *args])
    assert result.exit_code == 0, result.output


def outbox_rows(app):
    with app.app_context():
        return list(get_db().query("SELECT * FROM outbox ORDER BY id"))


def let_time_pass(app):
    """Make every waiting retry due now, as if its back-off had elapsed."""
    with app.app_context():
        get_db().execute("UPDATE outbox SET next_attempt_at = '2000-01-01T00:00:00+00:00' "
                         "WHERE state = 'pending'")


def staff_client(app, email="admin@city.example"):
    client = app.test_client()
    auth = AuthActions(app, client)
    auth.create(email, "admin", ())
    auth.login(email)
    return client


def staff_page(app, report_id):
    return staff_client(app).get(f"/dispatch/reports/{report_id}").get_data(as_text=True)


def test_a_report_is_delivered_exactly_once_by_email_and_webhook(tmp_path, smtp, webhook):
    app = mail_app(tmp_path, smtp.port, WEBHOOK_SECRET="shared-secret")
    configure(app, "--email", ROADS, "--webhook", webhook.url)
    report_id = new_report(app)

    assert "Planned 3 message(s); 3 sent" in send(app)
    assert "Planned 0 message(s); 0 sent" in send(app)

    [to_service] = smtp.to(ROADS)
    assert to_service["Subject"] == f"Report {report_id}: Pothole in Square A"
    body = to_service.get_content()
    assert "Deep hole in the cycle lane" in body and REPORTER in body
    assert f"https://fix.city.example/dispatch/reports/{report_id}" in body
    [call] = webhook.calls
    assert call["json"]["event"] == "report.created"
    assert call["json"]["report"]["id"] == report_id
    assert call["json"]["report"]["lon"] == 0.5
    expected = hmac.new(b"shared-secret", call["body"], hashlib.sha256).hexdigest()
    assert call["headers"]["X-Civic-Signature"] == f"sha256={expected}"
    assert call["headers"]["X-Civic-Delivery"] == f"report:{report_id}:service:roads:webhook"

    [private_link] = smtp.to(REPORTER)
    assert f"https://fix.city.example/reports/{report_id}/manage/" in private_link.get_content()
    page = staff_page(app, report_id)
    assert f"Sent by e-mail to {ROADS} at" in page and f"Sent by webhook to {webhook.url}" in page


def test_smtp_down_means_retries_then_one_delivery_once_it_is_back(tmp_path):
    port = free_port()
    app = mail_app(tmp_path, port, OUTBOX_RETRY_SECONDS=60)
    configure(app, "--email", ROADS)
    report_id = new_report(app, email=None)

    assert "1 failed and will be retried" in send(app)
    [message] = outbox_rows(app)
    assert message["state"] == "pending" and message["attempts"] == 1
    assert "Connection refused" in message["last_error"]
    assert message["next_attempt_at"] > message["created_at"]
    assert "Failed, retrying (e-mail to roads@city.example; 1 attempts so far" in staff_page(
        app, report_id)
    assert "0 sent, 0 failed" in send(app)  # not due yet: the back-off holds

    let_time_pass(app)
    assert "1 failed and will be retried" in send(app)
    assert outbox_rows(app)[0]["attempts"] == 2

    sink = SmtpSink(port).start()
    try:
        let_time_pass(app)
        assert "1 sent" in send(app)
        let_time_pass(app)
        send(app)
    finally:
        sink.stop()
    assert len(sink.to(ROADS)) == 1
    assert outbox_rows(app)[0]["state"] == "sent"


def test_a_message_is_given_up_after_the_last_attempt(tmp_path):
    app = mail_app(tmp_path, free_port(), OUTBOX_MAX_ATTEMPTS=2)
    configure(app, "--email", ROADS)
    report_id = new_report(app, email=None)
    send(app)
    let_time_pass(app)
    assert "1 failed for good" in send(app)
    assert outbox_rows(app)[0]["state"] == "failed"
    assert "Failed for good after 2 attempts" in staff_page(app, report_id)
    assert "0 sent, 0 failed" in send(app)


def test_a_failing_webhook_is_retried(tmp_path):
    sink = WebhookSink(statuses=[500, 503]).start()
    try:
        app = mail_app(tmp_path, free_port())
        configure(app, "--webhook", sink.url)
        new_report(app, email=None)
        assert "1 failed and will be retried" in send(app)
        assert "HTTP Error 500" in outbox_rows(app)[0]["last_error"]
        let_time_pass(app)
        send(app)
        let_time_pass(app)
        assert "1 sent" in send(app)
    finally:
        sink.stop()
    assert len(sink.calls) == 3
    assert len({c["headers"]["X-Civic-Delivery"] for c in sink.calls}) == 1


def test_reassignment_delivers_to_the_new_service_once(tmp_path, smtp):
    app = mail_app(tmp_path, smtp.port)
    configure(app, "--email", ROADS)
    app.test_cli_runner().invoke(args=["services", "set", "lights", "--email",
                                       "lights@city.example"])
    report_id = new_report(app, email=None)
    send(app)
    staff_client(app).post(f"/dispatch/reports/{report_id}/reassign",
                           data={"service": "lights", "reason": "Their lamp post."})
    send(app)
    send(app)
    assert len(smtp.to(ROADS)) == 1 and len(smtp.to("lights@city.example")) == 1


def test_service_delivery_settings_are_checked(app, runner):
    bad = runner.invoke(args=["services", "set", "roads", "--webhook", "ftp://x"])
    assert bad.exit_code != 0 and "http or https" in bad.output
    assert runner.invoke(args=["services", "set", "nope", "--email", "a@b.example"]
                         ).exit_code != 0
    assert runner.invoke(args=["services", "set", "roads", "--email", "not-an-address"]
                         ).exit_code != 0
    ok = runner.invoke(args=["services", "set", "roads", "--email", ROADS])
    assert ok.exit_code == 0
    assert f"roads: Roads department; e-mail {ROADS}; webhook -" in runner.invoke(
        args=["services", "list"]).output


def test_without_a_mail_server_messages_wait_and_say_why(tmp_path):
    app = make_app(tmp_path)
    configure(app, "--email", ROADS)
    new_report(app, email=None)
    send(app)
    assert "No mail server is configured" in outbox_rows(app)[0]["last_error"]
    assert "email pending: 1" in app.test_cli_runner().invoke(args=["outbox", "status"]).output


def test_the_worker_loop_sends_as_reports_arrive_and_stops_cleanly(tmp_path, smtp):
    app = mail_app(tmp_path, smtp.port)
    configure(app, "--email", ROADS)
    env = {**os.environ, "CIVIC_DATABASE": str(tmp_path / "test.sqlite3"),
           "CIVIC_DATABASE_URL": app.config.get("DATABASE_URL", ""),
           "CIVIC_PHOTO_STORE": str(tmp_path / "photos"), "CIVIC_MAIL_SERVER": "127.0.0.1",
           "CIVIC_MAIL_PORT": str(smtp.port), "CIVIC_OUTBOX_POLL_SECONDS": "0.2",
           "CIVIC_INSTANCE_PATH": str(tmp_path / "instance")}
    worker = subprocess.Popen([sys.executable, "-m", "flask", "--app", "app", "outbox", "send",
                               "--forever"], env=env, stdout=subprocess.PIPE,
                              stderr=subprocess.STDOUT, text=True)
    try:
        for _ in range(3):
            new_report(app, email=None)
        deadline = time.monotonic() + 20
        while len(smtp.to(ROADS)) < 3 and time.monotonic() < deadline:
            time.sleep(0.1)
    finally:
        worker.send_signal(signal.SIGTERM)
        output, _ = worker.communicate(timeout=20)
    assert worker.returncode == 0, output
    assert len(smtp.to(ROADS)) == 3
    assert "Sending until stopped." in output


# Several workers (issue 22): claims taken at once, each message once.

AT, LEASE_UNTIL = "2030-01-01T00:00:00+00:00", "2030-01-01T00:05:00+00:00"


def queued_messages(app, count):
    """``count`` messages due now, their ids in order."""
    with app.app_context():
        db = get_db()
        for number in range(count):
            outbox_storage.enqueue(db, {"channel": "email", "purpose": "alert",
                                        "recipient": ROADS, "dedupe_key": f"n:{number}",
                                        "body": "Hello", "next_attempt_at": AT})
        return [row[0] for row in db.execute("SELECT id FROM outbox ORDER BY id")]


@contextlib.contextmanager
def worker_connection(app):
    """A connection of its own, as a worker on another machine has."""
    db = open_database(database_target(app))
    try:
        yield db
    finally:
        db.close()


def claim_everything(app, start, claimed):
    """A worker's round: claim until nothing is left, noting each message taken."""
    with worker_connection(app) as db:
        start.wait()
        last_id = 0
        while message := outbox_storage.claim_next(db, AT, LEASE_UNTIL, 5, last_id):
            last_id = message["id"]
            claimed.append(message["id"])


def test_two_workers_claiming_at_once_take_each_message_once(app):
    ids = queued_messages(app, 80)
    start, claims = threading.Barrier(2), ([], [])
    workers = [threading.Thread(target=claim_everything, args=(app, start, claimed))
               for claimed in claims]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(timeout=60)
    assert sorted(claims[0] + claims[1]) == ids
    assert not set(claims[0]) & set(claims[1])
    assert {row["attempts"] for row in outbox_rows(app)} == {1}


def test_a_dead_workers_message_is_claimed_again_after_its_lease(app):
    [message_id] = queued_messages(app, 1)
    with app.app_context():
        db = get_db()
        assert outbox_storage.claim_next(db, AT, LEASE_UNTIL, 5)["id"] == message_id
        assert outbox_storage.claim_next(db, AT, LEASE_UNTIL, 5) is None  # still leased
        again = outbox_storage.claim_next(db, LEASE_UNTIL, "2030-01-01T00:10:00+00:00", 5)
    assert (again["id"], again["attempts"]) == (message_id, 2)


def no_waiting(db):
    """Make a statement that waits for a lock fail within seconds instead of hanging."""
    db.execute("SET lock_timeout = '5s'")


@pytest.mark.only_engine("postgresql", reason="row locks: SQLite has one writer at a time, "
                                              "so a second claim waits for the first")
def test_a_claim_passes_over_the_message_another_worker_is_claiming(app):
    first, second = queued_messages(app, 2)
    with worker_connection(app) as one, worker_connection(app) as other:
        no_waiting(other)
        with dialect.row_lock_transaction(one):
            assert outbox_storage.claim_next(one, AT, LEASE_UNTIL, 5)["id"] == first
            assert outbox_storage.claim_next(other, AT, LEASE_UNTIL, 5)["id"] == second
        assert outbox_storage.claim_next(other, AT, LEASE_UNTIL, 5) is None


@pytest.mark.only_engine("postgresql", reason="SQLite has one writer at a time: a claim "
                                              "waits for the write lock there")
def test_a_claim_does_not_wait_for_the_database_write_lock(app):
    [message_id] = queued_messages(app, 1)
    with worker_connection(app) as writer, worker_connection(app) as worker:
        no_waiting(worker)
        with writer.atomic():  # e.g. a report being stored on another app server
            assert outbox_storage.claim_next(worker, AT, LEASE_UNTIL, 5)["id"] == message_id
