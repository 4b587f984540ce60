"""The reporter's private link: updates with a photo, fixed, reopen; staff can hide updates."""

import io
import re

import pytest

from app.storage import row_counts
from app.web.db import get_db
from tests.factories import jpeg_bytes
from tests.test_report_flow import post


def create(client):
    response = post(client)
    report_id = int(response.headers["Location"].rsplit("/", 1)[1])
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    link = re.search(r'class="private-link" href="([^"]+)"', page).group(1)
    return report_id, link.replace("http://localhost", "")


def test_confirmation_shows_the_private_link_once(client):
    report_id, link = create(client)
    assert link.startswith(f"/reports/{report_id}/manage/") and len(link.rsplit("/", 1)[1]) >= 20
    assert "private-link" not in client.get(f"/reports/{report_id}").get_data(as_text=True)
    assert client.get(link).status_code == 200


def test_update_with_photo_is_public_until_staff_hide_it(app, client, auth):
    report_id, link = create(client)
    photo = (io.BytesIO(jpeg_bytes(color=(3, 3, 3))), "u.jpg")
    response = client.post(f"{link}/update", content_type="multipart/form-data",
                           data={"text": "Now twice as deep", "photos": [photo]})
    assert response.status_code == 303
    page = client.get(f"/reports/{report_id}").get_data(as_text=True)
    assert "Now twice as deep" in page and "Update from the reporter" in page
    photo_url = re.search(r'<ul class="updates">.*?src="(/photos/[^"]+)"', page, re.S).group(1)
    served = client.get(photo_url)
    served.close()
    assert served.status_code == 200
    auth.login("roads@city.example")
    client.post(f"/dispatch/reports/{report_id}/updates/1/visibility", data={"hidden": "1"})
    assert "Now twice as deep" not in client.get(f"/reports/{report_id}").get_data(as_text=True)
    assert client.get(photo_url).status_code == 404
    assert "Now twice as deep" in client.get(f"/dispatch/reports/{report_id}").get_data(
        as_text=True)


def test_photos_of_updates_survive_photos_gc(client, runner, tmp_path):
    _, link = create(client)
    client.post(f"{link}/update", content_type="multipart/form-data", data={
        "text": "Photo", "photos": [(io.BytesIO(jpeg_bytes(color=(9, 1, 1))), "u.jpg")]})
    assert len(list((tmp_path / "photos").rglob("*.jpg"))) == 2
    assert "0 orphan" in runner.invoke(args=["photos", "gc"]).output
    assert len(list((tmp_path / "photos").rglob("*.jpg"))) == 2


def test_mark_fixed_then_reopen(client):
    report_id, link = create(client)
    client.post(f"{link}/fixed", data={"note": "Filled yesterday.", "confirmed": "yes"})
    page = client.get(f"/reports/{report_id}").get_data(as_text=True)
    assert 'id="report-status">Fixed' in page and "Filled yesterday." in page
    refused = client.post(f"{link}/reopen", data={"note": "", "confirmed": "yes"},
                          follow_redirects=True)
    assert "Say what is still wrong" in refused.get_data(as_text=True)
    client.post(f"{link}/reopen",
                data={"note": "It opened again after the rain.", "confirmed": "yes"})
    page = client.get(f"/reports/{report_id}").get_data(as_text=True)
    assert 'id="report-status">New' in page and "after the rain" in page


@pytest.mark.parametrize("action", ["", "/update", "/fixed", "/reopen"])
def test_a_wrong_token_is_a_404_and_stores_nothing(app, client, snapshot, action):
    report_id, link = create(client)
    before = snapshot()
    forged = f"/reports/{report_id}/manage/{'x' * 24}{action}"
    response = client.post(forged, data={"text": "x", "note": "x"}) if action else client.get(
        forged)
    assert response.status_code == 404
    assert snapshot() == before
    with app.app_context():
        assert row_counts(get_db(), ("report_updates",)) == {"report_updates": 0}


def test_bad_update_is_refused_and_stores_nothing(client, snapshot):
    _, link = create(client)
    before = snapshot()
    empty = client.post(f"{link}/update", data={"text": " "}, follow_redirects=True)
    assert "Write a few words" in empty.get_data(as_text=True)
    not_image = client.post(f"{link}/update", content_type="multipart/form-data", data={
        "text": "x", "photos": [(io.BytesIO(b"<svg/>"), "x.jpg")]}, follow_redirects=True)
    assert "not an image" in not_image.get_data(as_text=True)
    assert snapshot() == before


def test_anyone_may_ask_to_reopen_a_fixed_report_and_staff_see_it(app, client, auth, snapshot):
    report_id, link = create(client)
    before = snapshot()
    early = client.post(f"/reports/{report_id}/reopen-request", data={"text": "Still bad"},
                        follow_redirects=True)
    assert "Only a report marked fixed" in early.get_data(as_text=True)
    assert snapshot() == before
    client.post(f"{link}/fixed", data={"confirmed": "yes"})
    photo = (io.BytesIO(jpeg_bytes(color=(7, 7, 7))), "r.jpg")
    neighbour = app.test_client()
    response = neighbour.post(f"/reports/{report_id}/reopen-request",
                              content_type="multipart/form-data",
                              data={"text": "Still a hole here", "photos": [photo]},
                              follow_redirects=True)
    page = response.get_data(as_text=True)
    assert "will look at it again" in page and "Someone says it is not fixed" in page
    assert "Still a hole here" in page
    auth.login("roads@city.example")
    staff = client.get(f"/dispatch/reports/{report_id}").get_data(as_text=True)
    assert "Someone says it is not fixed" in staff and "by a resident" in staff
