"""Issue 13, points 1 and 15, each proven by running the attack against the real outbox,
SMTP server (aiosmtpd) and HTTP receivers, all on 127.0.0.1.

Point 1: an address that smuggles headers or recipients (an RFC 2047 encoded-word, CR/LF,
brackets...) is refused where it comes in; one already in the outbox fails without holding up
the messages behind it, as does a receiver answering garbage or a message whose send kills
the worker; a line break in a name never reaches a header.

Point 15: webhooks go to public addresses only (unless WEBHOOK_ALLOW_PRIVATE) and redirects
are not followed. Refusals of non-local addresses are tested where the URL is checked,
without connecting: the suite's loopback guard (tests/loopback.py) would fail any connection
or name lookup for a host other than this machine, so nothing is ever sent to the addresses
named below.
"""

import base64
import email
import email.policy
import os
import re
import signal
import socket
import ssl
import subprocess
import sys
import threading
import time
from email.message import EmailMessage
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlsplit

import pytest
import shapely
from hypothesis import given
from hypothesis import strategies as st

from app.errors import ValidationError
from app.fields import is_safe_address
from app.messaging import delivery
from app.storage import outbox as outbox_storage
from app.web.db import get_db
from tests.factories import make_app, make_category, make_layer
from tests.receivers import free_port
from tests.test_outbox import (
    REPORTER,
    ROADS,
    configure,
    let_time_pass,
    mail_app,
    new_report,
    outbox_rows,
    send,
)
from tests.test_report_flow import post

SMUGGLED = ("x,target@victim.example,\r\nSubject: You won\r\nContent-Type: text/html\r\n\r\n"
            "<a href=https://evil.example>claim</a>")
ENCODED_WORD = f"a@=?utf-8?b?{base64.b64encode(SMUGGLED.encode()).decode()}?=.c"
HOSTILE_ADDRESSES = [
    ENCODED_WORD,
    "=?utf-8?q?victim=40evil.example?=@city.example",
    "crash@[b.c",
    "a@[127.0.0.1]",
    "a\r\nbcc@victim.example",
    "a@b.example\nBcc: victim@evil.example",
    "a@b.example,victim@evil.example",
    '"a,b"@x.example',
    "Ada <ada@example.org>",
    "a b@x.example",
    "a\x00@x.example",
    "josé@example.org",
    "a@exämple.org",
    "a..b@x.example",
    "a@-x.example",
]


def in_app(app, work):
    with app.app_context():
        return work(get_db())


# Point 1: addresses


@pytest.mark.parametrize("address", HOSTILE_ADDRESSES)
def test_hostile_addresses_are_refused_by_every_form_and_nothing_is_stored(
        app, client, snapshot, address):
    report_id = new_report(app, email=None)
    before = snapshot()
    answers = [
        client.post("/alerts", data={"kind": "radius", "lon": "0.5", "lat": "0.5",
                                     "radius": "500", "email": address}),
        client.post(f"/reports/{report_id}/subscribe", data={"email": address}),
        post(client, email=address),
        client.post(f"/api/reports/{report_id}/support", data={"email": address}),
    ]
    assert [a.status_code for a in answers] == [400, 400, 400, 400]
    refusal = answers[2].get_data(as_text=True)
    # a control character is refused at the door, for every field, before the e-mail check
    assert "not a valid e-mail address" in refusal or "control character" in refusal
    assert snapshot() == before


@pytest.mark.parametrize("address", HOSTILE_ADDRESSES[:6])
def test_hostile_addresses_are_refused_as_a_services_email(app, runner, address):
    result = runner.invoke(args=["services", "set", "roads", "--email", address])
    assert result.exit_code != 0 and "not a valid e-mail address" in result.output
    assert "roads: Roads department; e-mail -;" in runner.invoke(
        args=["services", "list"]).output


@pytest.mark.parametrize("address", ["ada@example.org", "a.b+tag@mail.city.example",
                                     "o'brien@example.ie", "x@xn--exmple-cua.org"])
def test_ordinary_addresses_are_accepted(address):
    assert is_safe_address(address)


@given(st.one_of(st.emails(), st.text(max_size=60),
                 st.builds("{}@{}".format, st.text(max_size=20), st.text(max_size=20))))
def test_an_accepted_address_is_one_recipient_on_one_header_line(text):
    if not is_safe_address(text):
        return
    message = EmailMessage()
    message["To"] = text
    message["Subject"] = "Hello"
    message.set_content("Hi")
    raw = message.as_bytes(policy=email.policy.SMTP)
    head = raw.split(b"\r\n\r\n", 1)[0]
    unfolded = re.sub(rb"\r\n(?=[ \t])", b"", head)  # a long address may fold; that is legal
    to_lines = [line for line in unfolded.split(b"\r\n") if line.lower().startswith(b"to:")]
    assert [line[3:].strip() for line in to_lines] == [text.encode()]
    parsed = email.message_from_bytes(raw, policy=email.policy.default)
    assert [a.addr_spec for a in parsed["To"].addresses] == [text]
    assert sorted(parsed.keys()) == sorted(message.keys())


# Point 1: the outbox keeps going


def old_message(number, recipient, channel="email"):
    """A message as an older version may have stored it, before the strict checks."""
    return {"channel": channel, "purpose": "alert", "recipient": recipient,
            "dedupe_key": f"old:{number}", "subject": "Your alert", "body": "Hello"}


def test_hostile_recipients_already_in_the_outbox_fail_and_the_rest_go_out(tmp_path, smtp):
    app = mail_app(tmp_path, smtp.port)
    hostile = [ENCODED_WORD, "crash@[b.c", "a\r\nbcc@victim.example"]
    in_app(app, lambda db: [outbox_storage.enqueue(db, old_message(n, r))
                            for n, r in enumerate([*hostile, REPORTER])])

    assert "Planned 0 message(s); 1 sent, 0 failed and will be retried, 3 failed for good" in (
        send(app))

    rows = outbox_rows(app)
    assert [r["state"] for r in rows] == ["failed", "failed", "failed", "sent"]
    assert all("is not a plain e-mail address" in r["last_error"] for r in rows[:3])
    assert [m["To"] for m in smtp.messages] == [REPORTER]
    assert "victim" not in smtp.messages[0].as_string()


class GarbageReceiver:
    """Reads an HTTP request, then answers a line that is not HTTP at all."""

    def __init__(self):
        self._listener = socket.create_server(("127.0.0.1", 0))
        self.url = f"http://127.0.0.1:{self._listener.getsockname()[1]}/hook"
        self.requests = 0
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    def _serve(self):
        while True:
            try:
                connection, _ = self._listener.accept()
            except OSError:
                return
            with connection:
                data = b""
                while b"\r\n\r\n" not in data:
                    data += connection.recv(65536)
                head, body = data.split(b"\r\n\r\n", 1)
                length = int(next(line.split(b":")[1] for line in head.split(b"\r\n")
                                  if line.lower().startswith(b"content-length")))
                while len(body) < length:
                    body += connection.recv(65536)
                self.requests += 1
                connection.sendall(b"SURPRISE this is no HTTP\r\n\r\n")

    def stop(self):
        self._listener.close()


def test_a_webhook_answering_garbage_fails_and_the_round_goes_on(tmp_path, smtp):
    receiver = GarbageReceiver()
    try:
        app = mail_app(tmp_path, smtp.port)
        configure(app, "--webhook", receiver.url)
        new_report(app)  # the webhook, then the reporter's private link

        assert "1 sent, 1 failed and will be retried" in send(app)
    finally:
        receiver.stop()
    webhook_row, link_row = outbox_rows(app)
    assert receiver.requests == 1
    assert webhook_row["state"] == "pending" and "BadStatusLine" in webhook_row["last_error"]
    assert link_row["state"] == "sent" and len(smtp.to(REPORTER)) == 1


def test_a_line_break_in_a_category_or_area_name_gives_a_one_line_subject(tmp_path, smtp):
    app = mail_app(tmp_path, smtp.port)

    def evil_names(db):
        make_category(db, "evil", "Pot\nhole\r\nX-Evil: 1")
        make_layer(db, "evil", [{"service": "roads", "categories": ["evil"],
                                 "geometry": shapely.box(5, 5, 6, 6),
                                 "name": "Square\r\nBcc: victim@evil.example"}])
    in_app(app, evil_names)
    configure(app, "--email", ROADS)
    report_id = new_report(app, lon="5.5", lat="5.5", category="evil", email=None)

    assert "1 sent, 0 failed" in send(app)
    [message] = smtp.to(ROADS)
    assert message["Subject"] == (
        f"Report {report_id}: Pot hole X-Evil: 1 in Square Bcc: victim@evil.example")
    assert "X-Evil" not in message and "Bcc" not in message
    assert [m["To"] for m in smtp.messages] == [ROADS]


class SilentSmtp:
    """Accepts connections and never says a word: a worker sending here waits mid-send."""

    def __init__(self):
        self._listener = socket.create_server(("127.0.0.1", 0))
        self.port = self._listener.getsockname()[1]
        self.connections = []
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self):
        while True:
            try:
                self.connections.append(self._listener.accept()[0])
            except OSError:
                return

    def stop(self):
        for connection in self.connections:
            connection.close()
        self._listener.close()


def kill_worker_mid_send(env, server, expected_connections):
    """Run 'outbox send' in a process and SIGKILL it once it is waiting on the server."""
    worker = subprocess.Popen([sys.executable, "-m", "flask", "--app", "app", "outbox", "send"],
                              env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 30
    while len(server.connections) < expected_connections and time.monotonic() < deadline:
        time.sleep(0.05)
    worker.send_signal(signal.SIGKILL)
    worker.wait()
    assert len(server.connections) == expected_connections


def test_a_message_that_kills_the_worker_is_given_up_after_the_last_attempt(tmp_path, smtp):
    silent = SilentSmtp()
    app = mail_app(tmp_path, silent.port, OUTBOX_MAX_ATTEMPTS=2)
    configure(app, "--email", ROADS)
    first, second = new_report(app, email=None), new_report(app, email=None)
    env = {**os.environ, "CIVIC_DATABASE": str(tmp_path / "test.sqlite3"),
           "CIVIC_DATABASE_URL": app.config.get("DATABASE_URL", ""),
           "CIVIC_PHOTO_STORE": str(tmp_path / "photos"), "CIVIC_MAIL_SERVER": "127.0.0.1",
           "CIVIC_MAIL_PORT": str(silent.port), "CIVIC_MAIL_TIMEOUT_SECONDS": "120",
           "CIVIC_OUTBOX_MAX_ATTEMPTS": "2", "CIVIC_INSTANCE_PATH": str(tmp_path / "instance")}
    try:
        for attempt in (1, 2):
            kill_worker_mid_send(env, silent, attempt)
            message = outbox_rows(app)[0]
            assert (message["state"], message["attempts"]) == ("pending", attempt)
            in_app(app, lambda db: db.execute(  # the lease runs out
                "UPDATE outbox SET claimed_until = '2000-01-01T00:00:00+00:00'"))
    finally:
        silent.stop()

    app.config["MAIL_PORT"] = smtp.port  # the next worker talks to a working server
    assert "1 sent, 0 failed and will be retried, 1 failed for good" in send(app)
    killer, behind = outbox_rows(app)
    assert (killer["state"], killer["attempts"]) == ("failed", 2)
    assert killer["last_error"] == delivery.ABANDONED
    assert behind["state"] == "sent" and behind["attempts"] == 1
    [delivered] = smtp.to(ROADS)
    assert delivered["Subject"].startswith(f"Report {second}:")
    assert first != second


# Point 15: webhooks


#: Addresses a webhook must never be set to. They are only checked as text and resolved as
#: literals, never contacted: the suite's loopback guard (tests/loopback.py) fails any
#: connection to them before a packet leaves.
NOT_PUBLIC = ["http://169.254.169.254/latest/meta-data/", "http://10.0.0.1/hook",
              "http://[::1]/", "http://localhost/", "http://127.0.0.1:8080/",
              "http://[::ffff:169.254.169.254]/", "http://[64:ff9b::a9fe:a9fe]/",
              "http://[2002:a00:1::]/", "http://0.0.0.0/", "http://224.0.0.1/",
              "http://100.64.0.1/", "http://192.168.1.1/", "http://[fe80::1]/",
              "http://[fd00::1]/", "http://240.0.0.1/", "http://user@169.254.169.254:80/"]


@pytest.mark.parametrize("url", NOT_PUBLIC)
def test_a_webhook_to_a_private_address_is_refused_when_set(app, runner, url):
    result = runner.invoke(args=["services", "set", "roads", "--webhook", url])
    assert result.exit_code != 0 and "only public addresses receive webhooks" in result.output
    assert "webhook -" in runner.invoke(args=["services", "list"]).output


@pytest.mark.parametrize("url", NOT_PUBLIC)
def test_the_send_time_check_refuses_private_addresses(url):
    with pytest.raises(ValidationError, match="only public addresses"):
        delivery.webhook_addresses(url, allow_private=False)


def test_the_address_check_knows_public_from_private():
    assert delivery.is_public_address("93.184.215.14")
    assert delivery.is_public_address("2606:2800:21f:cb07:6820:80da:af6b:8b2c")
    assert not delivery.is_public_address("169.254.169.254")
    assert not delivery.is_public_address("fe80::1%2")


def test_the_setting_allows_a_local_receiver(app, runner, webhook):
    app.config["WEBHOOK_ALLOW_PRIVATE"] = True
    ok = runner.invoke(args=["services", "set", "roads", "--webhook", webhook.url])
    assert ok.exit_code == 0, ok.output


@pytest.mark.parametrize("host", ["127.0.0.1", "localhost"])
def test_a_stored_webhook_to_a_private_address_is_not_contacted_at_send_time(
        tmp_path, webhook, host):
    """As if set before this check (or its name now resolves elsewhere): the real receiver
    on 127.0.0.1 never hears from the worker."""
    app = make_app(tmp_path)
    url = webhook.url.replace("127.0.0.1", host)
    in_app(app, lambda db: outbox_storage.enqueue(db, {
        **old_message(1, url, "webhook"), "body": "{}"}))

    assert "0 failed and will be retried, 1 failed for good" in send(app)
    assert webhook.calls == []
    [row] = outbox_rows(app)
    assert row["state"] == "failed" and row["attempts"] == 1, "not retried 12 times"
    assert row["last_error"].startswith("Undeliverable: The webhook")
    assert "only public addresses receive webhooks" in row["last_error"]
    assert "It is not tried again" in row["last_error"]
    let_time_pass(app)
    assert "0 sent, 0 failed and will be retried, 0 failed for good" in send(app)


class RedirectingReceiver:
    """Answers a redirect on /first and 200 on anything else, recording every request."""

    def __init__(self):
        self.paths = []
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def answer(self):
                self.rfile.read(int(self.headers.get("Content-Length") or 0))
                receiver.paths.append((self.command, self.path))
                if self.path == "/first":
                    self.send_response(302)
                    self.send_header("Location", f"{receiver.base}/second")
                else:
                    self.send_response(200)
                self.send_header("Content-Length", "0")
                self.end_headers()

            do_GET = do_POST = answer  # noqa: N815 (http.server's names)

            def log_message(self, *args):
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.base = f"http://127.0.0.1:{self._server.server_address[1]}"
        threading.Thread(target=self._server.serve_forever, daemon=True).start()

    def stop(self):
        self._server.shutdown()
        self._server.server_close()


def test_a_redirect_is_a_failed_attempt_and_is_not_followed(tmp_path):
    receiver = RedirectingReceiver()
    try:
        app = mail_app(tmp_path, free_port())
        configure(app, "--webhook", f"{receiver.base}/first")
        new_report(app, email=None)
        assert "1 failed and will be retried" in send(app)
    finally:
        receiver.stop()
    assert receiver.paths == [("POST", "/first")]
    error = outbox_rows(app)[0]["last_error"]
    assert "HTTP 302" in error and "/second" in error and "not followed" in error


def test_the_request_goes_to_the_checked_address_not_a_new_dns_answer(webhook):
    """The connection is pinned to the addresses checked beforehand: the host name is only
    sent in the Host header, never resolved again (a DNS rebinding gets nowhere)."""
    port = urlsplit(webhook.url).port
    parts = urlsplit(f"http://receiver.invalid:{port}/reports")
    connection = delivery._pinned_connection(parts, ["127.0.0.1"], timeout=10)
    try:
        connection.request("POST", "/reports", body=b"{}",
                           headers={"Content-Type": "application/json"})
        assert connection.getresponse().status == 200
    finally:
        connection.close()
    [call] = webhook.calls
    assert call["headers"]["Host"] == f"receiver.invalid:{port}"


@pytest.fixture
def tls_receiver(tmp_path, monkeypatch):
    """An HTTPS receiver on 127.0.0.1 whose certificate names receiver.invalid, trusted by
    the default TLS context through SSL_CERT_FILE (as an operator's own CA would be)."""
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
                    "-keyout", str(key), "-out", str(cert), "-subj", "/CN=receiver.invalid",
                    "-addext", "subjectAltName=DNS:receiver.invalid"],
                   check=True, capture_output=True)
    monkeypatch.setenv("SSL_CERT_FILE", str(cert))
    hosts = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):  # noqa: N802 (http.server's name)
            self.rfile.read(int(self.headers["Content-Length"]))
            hosts.append(self.headers["Host"])
            self.send_response(200)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    server.socket = context.wrap_socket(server.socket, server_side=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield server.server_address[1], hosts
    server.shutdown()
    server.server_close()


def test_a_pinned_https_connection_still_checks_the_certificate_name(tls_receiver):
    port, hosts = tls_receiver

    def post_to(name):
        connection = delivery._pinned_connection(
            urlsplit(f"https://{name}:{port}/reports"), ["127.0.0.1"], timeout=10)
        try:
            connection.request("POST", "/reports", body=b"{}")
            return connection.getresponse().status
        finally:
            connection.close()

    assert post_to("receiver.invalid") == 200
    with pytest.raises(ssl.SSLCertVerificationError):
        post_to("other.invalid")
    assert hosts == [f"receiver.invalid:{port}"]
