"""Real receivers on 127.0.0.1 for the outbox: an SMTP server (aiosmtpd) and a webhook
endpoint (http.server), each recording what it was sent."""

import email
import email.policy
import json
import socket
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from aiosmtpd.controller import Controller


def free_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class SmtpSink:
    """An SMTP server that keeps every message; start() and stop() it like a real outage."""

    def __init__(self, port=None):
        self.port = port or free_port()
        self.messages = []
        self._controller = None

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 (aiosmtpd's name)
        message = email.message_from_bytes(envelope.content, policy=email.policy.default)
        self.messages.append(message)
        return "250 Message accepted"

    def start(self):
        self._controller = Controller(self, hostname="127.0.0.1", port=self.port)
        self._controller.start()
        return self

    def stop(self):
        if self._controller:
            self._controller.stop()
            self._controller = None

    def to(self, address):
        return [m for m in self.messages if m["To"] == address]


class WebhookSink:
    """An HTTP endpoint answering each POST with the next status of ``statuses`` (then 200)."""

    def __init__(self, statuses=()):
        self.calls = []
        self.statuses = list(statuses)
        sink = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802 (http.server's name)
                body = self.rfile.read(int(self.headers["Content-Length"]))
                sink.calls.append({"headers": dict(self.headers), "body": body,
                                   "json": json.loads(body)})
                self.send_response(sink.statuses.pop(0) if sink.statuses else 200)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args):
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}/reports"
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    def start(self):
        self._thread.start()
        return self

    def stop(self):
        self._server.shutdown()
        self._server.server_close()
