"""The resident's flow through the web form: success, and every bad input storing nothing."""

import io

import pytest
from PIL import Image

from app.reporting.photos import PhotoStore
from tests.factories import gps_exif, jpeg_bytes

GOOD = {
    "lon": "0.5",
    "lat": "0.5",
    "category": "pothole",
    "description": "Deep hole in the cycle lane",
    "name": "Ada Resident",
    "email": "ada@example.org",
}


def post(client, photos=(), **fields):
    data = {**GOOD, **fields}
    data = {k: v for k, v in data.items() if v is not None}
    data["photos"] = [(io.BytesIO(content), name) for name, content in photos]
    return client.post("/report/new", data=data, content_type="multipart/form-data")


def test_report_is_routed_stored_and_shown(client):
    response = post(client, photos=[("hole.jpg", jpeg_bytes(exif=gps_exif(0.5, 0.5)))])
    assert response.status_code == 303
    page = client.get(response.headers["Location"])
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    assert "Roads department" in html and "Square A" in html
    assert "Deep hole in the cycle lane" in html
    assert "ada@example.org" not in html
    assert "Ada Resident" not in html
    assert "/photos/" in html


def test_name_shown_only_when_chosen(client):
    response = post(client, show_name="yes")
    html = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "by Ada Resident" in html
    assert "ada@example.org" not in html


def test_point_on_shared_edge_routes_by_rule(client):
    """Both squares take potholes; at x=1 both contain the point: the lower id wins."""
    response = post(client, lon="1.0", lat="0.5")
    assert "Roads department" in client.get(response.headers["Location"]).get_data(as_text=True)


def test_category_decides_the_service(client):
    response = post(client, lon="1.5", category="streetlight")
    assert "Street lighting" in client.get(response.headers["Location"]).get_data(as_text=True)


def test_history_shows_creation(client):
    response = post(client)
    html = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "Reported" in html and 'class="history"' in html


def test_stored_photo_has_no_metadata(client):
    response = post(client, photos=[("p.jpg", jpeg_bytes(exif=gps_exif(0.5, 0.5)))])
    html = client.get(response.headers["Location"]).get_data(as_text=True)
    names = sorted(set(part.split('"')[0] for part in html.split("/photos/")[1:]))
    assert len(names) == 2  # display and thumbnail
    for name in names:
        with client.get(f"/photos/{name}", buffered=True) as served:
            assert served.status_code == 200
            data = served.data
            assert served.headers["Cache-Control"] == "public, max-age=86400"
        assert not Image.open(io.BytesIO(data)).getexif()
        assert b"Exif" not in data and b"TestCam" not in data


NOT_AN_IMAGE = b"<html><script>alert(1)</script></html>"


@pytest.mark.parametrize(("fields", "photos", "status", "message"), [
    ({"lon": None, "lat": None}, [], 400, "Place the pin on the map"),
    ({"lon": "abc"}, [], 400, "not a number"),
    ({"lat": "NaN"}, [], 400, "not a finite number"),
    ({"lon": "inf"}, [], 400, "not a finite number"),
    ({"lat": "91"}, [], 400, "out of range"),
    ({"lon": "-181"}, [], 400, "out of range"),
    ({"lon": "5", "lat": "5"}, [], 422, "outside the area we cover"),
    ({"category": "unicorns"}, [], 400, "not a category we know"),
    ({"category": "streetlight"}, [], 422, "not handled at this location"),
    ({"category": ""}, [], 400, "Choose what kind of problem"),
    ({"description": "   "}, [], 400, "Describe the problem"),
    ({"description": "x" * 5001}, [], 400, "the limit is 5000"),
    ({"email": "not-an-address"}, [], 400, "not a valid e-mail address"),
    ({}, [("a.jpg", jpeg_bytes())] * 4, 400, "at most 3 photos"),
    ({}, [("photo.jpg", NOT_AN_IMAGE)], 400, "not an image we accept"),
    ({}, [("ok.jpg", jpeg_bytes()), ("cut.jpg", jpeg_bytes((800, 600))[:2000])], 400,
     "damaged or incomplete"),
    ({}, [("big.png", b"")], 200, None),
])
def test_bad_input_is_refused_and_nothing_is_stored(client, snapshot, fields, photos, status,
                                                    message):
    before = snapshot()
    response = post(client, photos=photos, **fields)
    if message is None:  # an empty file input is ignored, not an error
        assert response.status_code == 303
        return
    assert response.status_code == status
    assert message in response.get_data(as_text=True)
    assert snapshot() == before


def test_decompression_bomb_is_refused(client, snapshot):
    before = snapshot()
    bomb = io.BytesIO()
    Image.new("1", (8000, 6000)).save(bomb, "PNG")  # 48 megapixels in a few kB
    response = post(client, photos=[("bomb.png", bomb.getvalue())])
    assert response.status_code == 400
    assert "too many pixels" in response.get_data(as_text=True)
    assert snapshot() == before


def test_upload_over_limit_gets_413(app, client, snapshot):
    app.config["MAX_CONTENT_LENGTH"] = 1024 * 1024
    before = snapshot()
    response = client.post(
        "/report/new",
        data=b"0" * (2 * 1024 * 1024),
        content_type="multipart/form-data; boundary=x",
    )
    assert response.status_code == 413
    assert "too large" in response.get_data(as_text=True)
    assert snapshot() == before


def test_failure_half_way_leaves_no_row_and_no_file(client, snapshot, monkeypatch):
    calls = []
    real_write = PhotoStore.write

    def failing_write(self, name, data):
        calls.append(name)
        if len(calls) == 3:  # the display image of the second photo
            raise OSError(28, "No space left on device")
        return real_write(self, name, data)

    monkeypatch.setattr(PhotoStore, "write", failing_write)
    before = snapshot()
    photos = [("a.jpg", jpeg_bytes(color=(1, 2, 3))), ("b.jpg", jpeg_bytes(color=(9, 8, 7)))]
    response = post(client, photos=photos)
    assert response.status_code == 503
    assert "Nothing was saved" in response.get_data(as_text=True)
    assert len(calls) == 3
    assert snapshot() == before


def test_rejected_form_keeps_what_was_typed(client):
    response = post(client, lon="5", lat="5", description="Broken bench <b>here</b>")
    html = response.get_data(as_text=True)
    assert "Broken bench &lt;b&gt;here&lt;/b&gt;" in html


def test_report_creation_is_rate_limited_across_web_and_open311(app, client, snapshot):
    from app.storage import apikeys
    from app.web.db import get_db

    app.config.update(RATE_LIMITS_ON=True, REPORT_RATE_LIMIT="2 per minute")
    with app.app_context():
        apikeys.create_key(get_db(), "limit", "limit-key-0123456789")
    assert post(client).status_code == 303
    # an Open311 POST without a valid key counts against the address (a keyed one counts
    # against its organisation's key instead: tests/test_apikey_limits.py)
    assert client.post("/open311/v2/requests.json", data={"api_key": "x"}).status_code == 403
    before = snapshot()
    refused = post(client)
    assert refused.status_code == 429 and "wait a while" in refused.get_data(as_text=True)
    open311 = client.post("/open311/v2/requests.json", data={"api_key": "x"})
    assert open311.status_code == 429 and open311.get_json()[0]["code"] == 429
    assert snapshot() == before
    assert client.post("/open311/v2/requests.json", data={
        "api_key": "limit-key-0123456789", "service_code": "pothole", "lat": "0.5",
        "long": "0.5", "description": "via Open311"}).status_code == 200
