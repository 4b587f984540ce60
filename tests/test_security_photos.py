"""Issue 13, photos: decode cost (pixel limit, reduced decoding, a bound on concurrent
decodes), how long caches keep a photo, and the rate limit on /api/photo-position.

Every attack goes through the real web form or Open311 and checks that nothing is stored.
"""

import io
import re
import struct
import zlib
from contextlib import contextmanager

import pytest
import xstatic.pkg.leaflet
from PIL import Image
from werkzeug.datastructures import FileStorage
from werkzeug.test import encode_multipart

from app.dispatch import workflow
from app.reporting.photos import DECODE_SLOTS, decoded_photo, photo_position
from app.storage import apikeys, row_counts
from app.storage import reports as report_rows
from app.web.db import get_db
from tests.factories import gps_exif, jpeg_bytes, make_app

KEY = "photo-security-key-0123456789"
LIMIT = 25_000_000
#: A recent iPhone's usual 24-megapixel photo (24.5 MP), the largest size we must take.
IPHONE_24MP = (5712, 4284)
#: The issue's attack: a PNG just under the old 40 MP limit.
UNDER_OLD_LIMIT = (6324, 6324)
OVER_LIMIT = (5001, 5000)


def png_chunk(kind, data):
    return (struct.pack(">I", len(data)) + kind + data
            + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF))


def black_png(size, late_exif=None):
    """A complete, valid black RGB PNG, compressed row by row (a few hundred kB even at
    40 MP, as in the issue's attack); ``late_exif`` puts an eXIf chunk after the pixels."""
    width, height = size
    compressor = zlib.compressobj(9)
    row = b"\0" * (1 + 3 * width)
    pixels = b"".join(compressor.compress(row) for _ in range(height)) + compressor.flush()
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    late = png_chunk(b"eXIf", late_exif) if late_exif else b""
    return (b"\x89PNG\r\n\x1a\n" + png_chunk(b"IHDR", header) + png_chunk(b"IDAT", pixels)
            + late + png_chunk(b"IEND", b""))


def large_jpeg(size):
    return jpeg_bytes(size=size, color=(90, 120, 60), quality=80)


@pytest.fixture
def keyed(app):
    with app.app_context():
        apikeys.create_key(get_db(), "photos", KEY)


def send(client, door, *photos):
    """Post files through the web form or Open311 (body built in memory)."""
    files = [FileStorage(io.BytesIO(data), f"p{n}.jpg", content_type="image/jpeg")
             for n, data in enumerate(photos)]
    if door == "web":
        url, fields = "/report/new", {"category": "pothole", "lon": "0.5", "photos": files}
    else:
        url = "/open311/v2/requests.json"
        fields = {"service_code": "pothole", "long": "0.5", "media": files, "api_key": KEY}
    fields.update(lat="0.5", description="a photo attack")
    boundary, body = encode_multipart(fields)
    return client.post(url, data=body, content_type=f"multipart/form-data; boundary={boundary}")


@pytest.fixture(scope="module")
def attack_pngs():
    return [black_png(UNDER_OLD_LIMIT)] * 3


@pytest.mark.parametrize("door", ["web", "open311"])
def test_the_issues_three_40mp_pngs_are_refused_before_decoding(client, keyed, snapshot,
                                                                 attack_pngs, door):
    assert sum(map(len, attack_pngs)) < 600_000
    before = snapshot()
    response = send(client, door, *attack_pngs)
    assert response.status_code == 400
    assert "too many pixels: the limit is 25 megapixels" in response.get_data(as_text=True)
    assert snapshot() == before


@pytest.mark.parametrize("door", ["web", "open311"])
@pytest.mark.parametrize("kind", ["PNG", "JPEG"])
def test_a_photo_just_over_the_limit_is_refused(client, keyed, snapshot, door, kind):
    assert OVER_LIMIT[0] * OVER_LIMIT[1] == LIMIT + 5000
    data = black_png(OVER_LIMIT) if kind == "PNG" else large_jpeg(OVER_LIMIT)
    before = snapshot()
    response = send(client, door, data)
    assert response.status_code == 400
    assert "too many pixels" in response.get_data(as_text=True)
    assert snapshot() == before


def test_a_recent_iphones_24mp_photo_is_accepted(app, client):
    response = send(client, "web", large_jpeg(IPHONE_24MP))
    assert response.status_code == 303
    with app.app_context():
        photos = report_rows.report_photos(get_db(), 1)
    assert len(photos) == 1


def test_a_24mp_jpeg_is_decoded_at_half_scale():
    """Reduced JPEG decoding: a quarter of the pixels, still >= 1536 px on the long side."""
    with decoded_photo(large_jpeg(IPHONE_24MP), LIMIT) as (image, _gps):
        assert image.size == (2856, 2142)


def test_a_48mp_jpeg_is_decoded_at_a_quarter_scale():
    with decoded_photo(large_jpeg((8000, 6000)), 50_000_000) as (image, _gps):
        assert image.size == (2000, 1500)


@contextmanager
def every_decode_slot_taken():
    """What a worker busy decoding other uploads looks like to the next request."""
    for _ in range(DECODE_SLOTS.size):
        DECODE_SLOTS.semaphore.acquire()
    try:
        yield
    finally:
        for _ in range(DECODE_SLOTS.size):
            DECODE_SLOTS.semaphore.release()


@pytest.mark.parametrize("door", ["web", "open311"])
def test_past_the_decode_bound_the_answer_is_503_with_retry_after(client, keyed, snapshot,
                                                                  door):
    before = snapshot()
    with every_decode_slot_taken():
        response = send(client, door, jpeg_bytes())
    assert response.status_code == 503
    assert response.headers["Retry-After"] == "10"
    assert "nothing was saved" in response.get_data(as_text=True)
    assert snapshot() == before
    assert send(client, door, jpeg_bytes()).status_code in (200, 303)


def test_the_busy_message_is_translated(client):
    with every_decode_slot_taken():
        response = send(client, "web", jpeg_bytes())
        french = client.post("/report/new", headers={"Accept-Language": "fr"},
                             data={"category": "pothole", "lon": "0.5", "lat": "0.5",
                                   "description": "x", "photos": [(io.BytesIO(jpeg_bytes()),
                                                                   "p.jpg")]})
    assert response.status_code == french.status_code == 503
    assert "rien n’a été enregistré" in french.get_data(as_text=True).lower()


def test_photo_position_never_decodes_pixels():
    """A PNG whose EXIF comes after its pixels would need a full decode: no position."""
    exif = gps_exif(2.35, 48.85).tobytes()
    assert photo_position(black_png((64, 64), late_exif=exif), LIMIT) is None
    early = io.BytesIO()
    Image.new("RGB", (64, 64)).save(early, "PNG", exif=exif)
    assert photo_position(early.getvalue(), LIMIT) == pytest.approx((2.35, 48.85), abs=1e-4)


def photo_urls(client):
    page = client.get("/reports/1").get_data(as_text=True)
    return sorted({"/photos/" + part.split('"')[0] for part in page.split("/photos/")[1:]})


def test_report_photos_are_cached_a_day_not_forever(client):
    send(client, "web", jpeg_bytes())
    urls = photo_urls(client)
    assert len(urls) == 2
    for url in urls:
        with client.get(url, buffered=True) as served:
            assert served.status_code == 200
            cache = served.headers["Cache-Control"]
            assert served.headers["ETag"]
        assert "immutable" not in cache
        assert {part.strip() for part in cache.split(",")} == {"public", "max-age=86400"}


def test_a_hidden_photo_is_a_404_nobody_keeps(app, client):
    send(client, "web", jpeg_bytes())
    urls = photo_urls(client)
    with app.app_context():
        workflow.set_photo_hidden(get_db(), 1, 0, "admin@city.example", True)
    for url in urls + ["/photos/" + "0" * 64 + ".jpg", "/photos/not-a-name"]:
        response = client.get(url)
        assert response.status_code == 404
        assert response.headers["Cache-Control"] == "no-store"


def test_the_photo_cache_lifetime_is_a_setting(tmp_path):
    client = make_app(tmp_path, PHOTO_CACHE_SECONDS=600).test_client()
    send(client, "web", jpeg_bytes())
    with client.get(photo_urls(client)[0], buffered=True) as served:
        assert "max-age=600" in served.headers["Cache-Control"]


def test_only_versioned_assets_are_immutable(client):
    vendor = client.get(f"/vendor/leaflet/{xstatic.pkg.leaflet.VERSION}/leaflet.js")
    static = client.get("/static/css/app.css")
    for response in (vendor, static):
        response.close()
    assert vendor.status_code == static.status_code == 200
    assert "immutable" in vendor.headers["Cache-Control"]
    assert "immutable" not in static.headers.get("Cache-Control", "")


def test_photo_position_is_rate_limited_and_stores_nothing(tmp_path):
    app = make_app(tmp_path, RATE_LIMITS_ON=True, PHOTO_POSITION_RATE_LIMIT="2 per hour")
    client = app.test_client()
    with app.app_context():
        before = row_counts(get_db())

    def ask():
        return client.post("/api/photo-position", content_type="multipart/form-data",
                           data={"photos": [(io.BytesIO(jpeg_bytes()), "p.jpg")]})

    assert [ask().status_code for _ in range(2)] == [200, 200]
    refused = ask()
    assert refused.status_code == 429
    assert "Too many requests" in refused.get_json()["error"]["message"]
    with app.app_context():
        assert row_counts(get_db()) == before
    assert not (tmp_path / "photos").exists() or not any((tmp_path / "photos").rglob("*"))


@pytest.mark.parametrize("action", ["update", "reopen_request"])
def test_a_busy_worker_answers_a_residents_update_with_503(client, snapshot, action):
    report_id = int(send(client, "web").headers["Location"].rsplit("/", 1)[1])
    if action == "update":
        page = client.get(f"/reports/{report_id}").get_data(as_text=True)
        url = re.search(r'class="private-link" href="http://localhost([^"]+)"', page).group(1)
        url += "/update"
    else:
        with client.application.app_context():
            workflow.change_status(get_db(), report_id, "test@city.example",
                                   workflow.StatusChange("fixed"))
        url = f"/reports/{report_id}/reopen-request"
    before = snapshot()
    with every_decode_slot_taken():
        response = client.post(url, data={"text": "still broken",
                                          "photos": [(io.BytesIO(jpeg_bytes()), "p.jpg")]})
    assert response.status_code == 503
    assert response.headers["Retry-After"] == "10"
    assert snapshot() == before
