"""Photos staged as soon as chosen (POST /api/photos): checked like any photo, private to the
browser that sent them, attached by id, counted by the limits, expired by 'photos gc', and
safe for backups and the privacy erase."""

import io
from pathlib import Path

import pytest
from PIL import Image

from app.web.db import get_db
from tests.factories import ClosingClient, gps_exif, jpeg_bytes
from tests.test_report_flow import NOT_AN_IMAGE, post


def stage(client, data=None, name="photo.jpg"):
    return client.post("/api/photos", data={"photo": (io.BytesIO(data or jpeg_bytes()), name)},
                       content_type="multipart/form-data")


def staged_id(client, data=None):
    response = stage(client, data)
    assert response.status_code == 201, response.get_json()
    return response.get_json()["id"]


def rows(app, sql):
    with app.app_context():
        return [tuple(row) for row in get_db().execute(sql)]


def other_browser(app):
    return ClosingClient(app, app.response_class, use_cookies=True)


def test_a_staged_photo_is_prepared_and_shown_only_to_its_browser(app, client):
    big = jpeg_bytes((3000, 2000), exif=gps_exif(0.5, 0.5))
    answer = stage(client, big)
    assert answer.status_code == 201
    body = answer.get_json()
    assert body["position"] == pytest.approx({"lon": 0.5, "lat": 0.5}, abs=1e-6)
    cookie = answer.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie and "Max-Age=86400" in cookie
    thumbnail = client.get(body["thumbnail_url"])
    assert thumbnail.status_code == 200 and thumbnail.mimetype == "image/jpeg"
    assert "private" in thumbnail.headers["Cache-Control"]
    assert max(Image.open(io.BytesIO(thumbnail.data)).size) <= 400
    assert other_browser(app).get(body["thumbnail_url"]).status_code == 404
    display, thumb = rows(app, "SELECT display_name, thumb_name FROM staged_photos")[0]
    for name in (display, thumb):  # never public, even by its content name
        assert client.get(f"/photos/{name}").status_code == 404
    stored = Path(app.config["PHOTO_STORE"]) / display[:2] / display
    assert b"Exif" not in stored.read_bytes()


def test_staged_photos_are_attached_in_order_and_leave_the_staging_table(app, client):
    first = staged_id(client, jpeg_bytes(color=(1, 2, 3)))
    second = staged_id(client, jpeg_bytes(color=(200, 100, 0)))
    response = post(client, staged_photo=[second, first],
                    photos=[("third.jpg", jpeg_bytes(color=(9, 9, 200)))])
    assert response.status_code == 303
    assert rows(app, "SELECT count(*) FROM staged_photos") == [(0,)]
    stored = rows(app, "SELECT position, display_name FROM photos ORDER BY position")
    assert len(stored) == 3
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert all(name in page for _, name in stored)


def test_another_browsers_or_an_unknown_photo_is_refused_and_nothing_is_stored(
        app, client, snapshot):
    theirs = staged_id(other_browser(app))
    staged_id(client)
    before = snapshot()
    for ids in ([theirs], ["no-such-photo"]):
        response = post(client, staged_photo=ids)
        assert response.status_code == 400
        assert "add it again" in response.get_data(as_text=True)
        assert snapshot() == before


def test_staged_and_sent_photos_count_together_toward_the_limit(app, client, snapshot):
    ids = [staged_id(client, jpeg_bytes(color=(n, 0, 0))) for n in range(3)]
    before = snapshot()
    response = post(client, staged_photo=ids, photos=[("4.jpg", jpeg_bytes())])
    assert response.status_code == 400 and "at most 3 photos" in response.get_data(as_text=True)
    assert snapshot() == before


@pytest.mark.parametrize(("files", "message"), [
    ({"photo": (io.BytesIO(NOT_AN_IMAGE), "x.jpg")}, "not an image we accept"),
    ({"photo": (io.BytesIO(jpeg_bytes((800, 600))[:2000]), "cut.jpg")}, "damaged"),
    ({}, "exactly one photo"),
    ({"photo": [(io.BytesIO(jpeg_bytes()), "a.jpg"), (io.BytesIO(jpeg_bytes()), "b.jpg")]},
     "exactly one photo"),
])
def test_a_bad_upload_is_explained_in_json_and_nothing_is_stored(client, snapshot, files,
                                                                 message):
    before = snapshot()
    response = client.post("/api/photos", data=files, content_type="multipart/form-data")
    assert response.status_code == 400
    assert message in response.get_json()["error"]["message"]
    assert snapshot() == before


def test_the_error_is_in_the_residents_language(client):
    response = client.post("/api/photos", headers={"Accept-Language": "fr"},
                           data={"photo": (io.BytesIO(NOT_AN_IMAGE), "x.jpg")},
                           content_type="multipart/form-data")
    assert "n’est pas une image" in response.get_json()["error"]["message"]


def test_one_browser_may_keep_only_so_many_photos_waiting(app, client, snapshot):
    app.config["STAGED_PHOTOS_PER_BROWSER"] = 2
    staged_id(client)
    staged_id(client)
    before = snapshot()
    refused = stage(client)
    assert refused.status_code == 400 and "photos waiting" in refused.get_json()["error"]["message"]
    assert snapshot() == before


def test_uploads_are_rate_limited_per_client_address(app, client):
    app.config.update(RATE_LIMITS_ON=True, PHOTO_STAGING_RATE_LIMIT="2 per minute")
    assert [stage(client).status_code for _ in range(3)] == [201, 201, 429]


def test_the_owner_removes_a_photo_and_no_one_else_can(app, client):
    photo_id = staged_id(client)
    assert other_browser(app).delete(f"/api/photos/{photo_id}").status_code == 404
    assert client.delete(f"/api/photos/{photo_id}").status_code == 204
    assert client.get(f"/api/photos/{photo_id}/thumbnail").status_code == 404
    assert client.delete(f"/api/photos/{photo_id}").status_code == 404


def test_photos_gc_forgets_expired_staged_photos_and_their_files(app, client, runner, tmp_path):
    old = staged_id(client, jpeg_bytes(color=(5, 5, 5)))
    fresh = staged_id(client, jpeg_bytes(color=(250, 250, 250)))
    with app.app_context():
        get_db().execute("UPDATE staged_photos SET created_at = '2020-01-01T00:00:00+00:00' "
                         "WHERE id = ?", [old])
    assert post(client, staged_photo=[old]).status_code == 400  # expired: not attachable
    result = runner.invoke(args=["photos", "gc"])
    assert "1 expired staged photo(s) forgotten, 2 orphan photo file(s) removed" in result.output
    assert rows(app, "SELECT id FROM staged_photos") == [(fresh,)]
    assert len(list((tmp_path / "photos").rglob("*.jpg"))) == 2  # the fresh one's files
    assert client.get(f"/api/photos/{fresh}/thumbnail").status_code == 200


def test_a_file_shared_with_a_report_survives_the_staged_photos_expiry(app, client, runner,
                                                                       tmp_path):
    same = jpeg_bytes(color=(7, 70, 170))
    assert post(client, photos=[("a.jpg", same)]).status_code == 303
    staged_id(client, same)  # the same pixels: the same content-named files
    with app.app_context():
        get_db().execute("UPDATE staged_photos SET created_at = '2020-01-01T00:00:00+00:00'")
    runner.invoke(args=["photos", "gc"])
    assert len(list((tmp_path / "photos").rglob("*.jpg"))) == 2
    assert runner.invoke(args=["photos", "gc", "--dry-run"]).output.startswith(
        "0 expired staged photo(s) forgotten, 0 orphan")


def test_backup_keeps_staged_photos_and_the_erase_is_unaffected(app, client, runner, tmp_path):
    staged_id(client)
    assert post(client, email="ana@example.org",
                staged_photo=[staged_id(client, jpeg_bytes(color=(1, 1, 1)))]).status_code == 303
    result = runner.invoke(args=["backup", str(tmp_path / "copy")])
    assert result.exit_code == 0, result.output
    assert len(list((tmp_path / "copy" / "photos").rglob("*.jpg"))) == 4
    erased = runner.invoke(args=["privacy", "erase", "--email", "ana@example.org"])
    assert erased.exit_code == 0 and "1 report(s)" in erased.output
    assert rows(app, "SELECT count(*) FROM staged_photos") == [(1,)]
    assert runner.invoke(args=["photos", "gc", "--dry-run"]).output.startswith(
        "0 expired staged photo(s) forgotten, 0 orphan")
