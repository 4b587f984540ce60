"""A real server on 127.0.0.1 for browser and client tests, in a background thread."""

import threading

from werkzeug.serving import make_server


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


class LiveServer:
    def __init__(self, app):
        self.app = app
        self._server = make_server("127.0.0.1", 0, closing(app), threaded=True)
        self.url = f"http://127.0.0.1:{self._server.server_port}"
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._server.shutdown()
        self._server.server_close()
        self._thread.join()


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
