"""One report per tap: a second POST with the form's submission key answers the first report,
also when both arrive at once on two gunicorn workers (the server `make serve` runs)."""

import io
import re
import threading

import pytest
import requests

from app.storage import reports as report_rows
from app.web.db import get_db
from tests.factories import jpeg_bytes
from tests.live import Gunicorn
from tests.test_report_flow import GOOD, post

KEY = "tap-once-0123456789abcdef"


def report_count(app):
    with app.app_context():
        return get_db().execute("SELECT count(*) FROM reports").fetchone()[0]


def test_the_form_carries_a_fresh_random_key(client):
    keys = [re.search(r'name="submission_key" value="([\w-]+)"',
                      client.get("/report/new").get_data(as_text=True)).group(1)
            for _ in range(2)]
    assert keys[0] != keys[1] and all(len(key) >= 20 for key in keys)


def test_a_refused_form_keeps_its_key(client):
    html = post(client, description="", submission_key=KEY).get_data(as_text=True)
    assert f'name="submission_key" value="{KEY}"' in html


def test_a_second_post_with_the_same_key_answers_the_first_report(app, client, snapshot):
    first = post(client, submission_key=KEY, photos=[("a.jpg", jpeg_bytes())])
    assert first.status_code == 303
    before = snapshot()
    again = post(client, submission_key=KEY, description="Another text, same tap",
                 photos=[("b.jpg", jpeg_bytes(color=(10, 200, 10)))])
    assert again.status_code == 303
    assert again.headers["Location"] == first.headers["Location"]
    assert snapshot() == before


def test_the_repeat_shows_the_private_link_of_the_first_report(app, client):
    post(client, submission_key=KEY)
    again = client.get(post(client, submission_key=KEY).headers["Location"])
    with app.app_context():
        token = report_rows.report_token(get_db(), 1)
    assert f"/reports/1/manage/{token}" in again.get_data(as_text=True)


def test_different_keys_make_different_reports(app, client):
    post(client, submission_key=KEY)
    post(client, submission_key=KEY + "-other")
    post(client)  # no key at all (an old page, a script): accepted as before
    assert report_count(app) == 3


@pytest.mark.parametrize("key", ["short", "spaces are not allowed here", "x" * 101, "ké" * 12])
def test_a_malformed_key_is_refused_and_nothing_is_stored(client, snapshot, key):
    before = snapshot()
    response = post(client, submission_key=key)
    assert response.status_code == 400
    assert "reload the page" in response.get_data(as_text=True)
    assert snapshot() == before


def test_two_parallel_posts_with_one_key_on_two_workers_make_one_report(app, tmp_path):
    """Each POST carries a photo, so both are decoding when the other arrives."""
    with Gunicorn(app, tmp_path, ["--workers", "2", "--threads", "1"]) as server:
        session = requests.Session()
        form = session.get(server.url + "/report/new", timeout=30).text
        token = re.search(r'name="csrf_token" value="([^"]+)"', form).group(1)
        photo = jpeg_bytes((3000, 2000))
        barrier = threading.Barrier(2)
        answers = []

        def send():
            barrier.wait()
            answers.append(session.post(
                server.url + "/report/new", allow_redirects=False, timeout=60,
                data={**GOOD, "csrf_token": token, "submission_key": KEY},
                files={"photos": ("p.jpg", io.BytesIO(photo), "image/jpeg")}))

        threads = [threading.Thread(target=send) for _ in range(2)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    assert [a.status_code for a in answers] == [303, 303]
    assert answers[0].headers["Location"] == answers[1].headers["Location"]
    assert report_count(app) == 1
    with app.app_context():
        assert get_db().execute("SELECT count(*) FROM photos").fetchone()[0] == 1
