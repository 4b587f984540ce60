"""A real server on 127.0.0.1 for browser and client tests, in a background thread."""

import base64
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path
from urllib.parse import urlsplit

import requests
from werkzeug.serving import make_server

ROOT = Path(__file__).resolve().parent.parent
TILE_HOST = "tiles.invalid"
BLANK_PNG = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAQAAAC1HAwCAAAAC0lEQVR42mNkYAAAAAYAAjCB0C8AAAAASUVORK5CYII="
)


def closing(app):
    """Close every response body, even when werkzeug's dev server drops it on a disconnect."""

    def wsgi(environ, start_response):
        body = app(environ, start_response)
        try:
            yield from body
        finally:
            if hasattr(body, "close"):
                body.close()

    return wsgi


class BackgroundServer:
    """A server (a socketserver) answering on a thread of its own while the ``with`` lasts."""

    def __init__(self, server):
        self._server = server
        self._thread = threading.Thread(target=server.serve_forever, daemon=True)

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._server.shutdown()
        self._server.server_close()
        self._thread.join()


class LiveServer(BackgroundServer):
    def __init__(self, app):
        self.app = app
        super().__init__(make_server("127.0.0.1", 0, closing(app), threaded=True))
        self.url = f"http://127.0.0.1:{self._server.server_port}"


def free_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class Gunicorn:
    """The production server (gunicorn.conf.py, one worker) on 127.0.0.1, serving ``app``'s
    database; ``settings`` are CIVIC_ settings, ``args`` more gunicorn arguments, ``port``
    one to listen on (default: a free one)."""

    def __init__(self, app, folder, args=(), port=None, **settings):
        port = port or free_port()
        self.url = f"http://127.0.0.1:{port}"
        self._command = [sys.executable, "-m", "gunicorn", "-c", "gunicorn.conf.py", *args,
                         "app:create_app()"]
        self._env = {
            **os.environ, "HOST": "127.0.0.1", "PORT": str(port), "WORKERS": "1",
            "CIVIC_INSTANCE_PATH": str(folder), "CIVIC_SECRET_KEY": "live-test-secret",
            "CIVIC_DATABASE": app.config["DATABASE"],
            "CIVIC_DATABASE_URL": app.config.get("DATABASE_URL", ""),
            "CIVIC_RATE_LIMIT_DATABASE": app.config["RATE_LIMIT_DATABASE"],
            **{f"CIVIC_{name}": str(value) for name, value in settings.items()},
        }
        self._process = None

    def __enter__(self):
        self._process = subprocess.Popen(
            self._command, cwd=ROOT, env=self._env, start_new_session=True,
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                requests.get(self.url + "/", timeout=2)
                return self
            except (requests.ConnectionError, requests.Timeout):  # not listening, or busy starting
                time.sleep(0.2)
        self.__exit__()
        raise RuntimeError("gunicorn did not start within 30 s")

    def __exit__(self, *exc):
        os.killpg(self._process.pid, signal.SIGTERM)
        self._process.wait(timeout=30)


def only_our_hosts(hosts=None):
    """A Playwright route: blank tiles from TILE_HOST, the app on 127.0.0.1, every other
    host refused; each host asked for is appended to ``hosts`` when given."""

    def route(request_route):
        host = urlsplit(request_route.request.url).hostname
        if hosts is not None:
            hosts.append(host)
        if host == TILE_HOST:
            request_route.fulfill(status=200, content_type="image/png", body=BLANK_PNG)
        elif host == "127.0.0.1":
            request_route.continue_()
        else:
            request_route.abort()

    return route


def submit_report(page, **fields):
    """Post the resident form from a browser page, CSRF token included; return the report URL."""
    page.goto("/report/new")
    token = page.get_attribute("input[name=csrf_token]", "value")
    response = page.request.post("/report/new", multipart={**fields, "csrf_token": token},
                                 max_redirects=0)
    assert response.status == 303, response.text()
    return response.headers["location"]


def log_in(page, email, password):
    """Log a member of staff in through the login form of the page's site."""
    page.fill("#email", email)
    page.fill("#password", password)
    page.get_by_role("button", name="Log in").click()
