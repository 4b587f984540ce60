"""Hostile input through every door: hostile files (web form and Open311), CSRF on every
state-changing form, SQL metacharacters in every filter, and fuzzed parsers."""

import io
import random
import re
import struct
import zipfile
import zlib

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from PIL import Image, PngImagePlugin
from werkzeug.datastructures import FileStorage
from werkzeug.test import encode_multipart

from app import create_app
from app.errors import PhotoError, ValidationError
from app.reporting import georeport, public
from app.reporting.photos import prepare_photo
from app.storage import apikeys, row_counts
from app.storage import reports as report_rows
from app.web.db import get_db
from tests.factories import jpeg_bytes, make_app

KEY = "hostile-key-0123456789"


def png_bomb():
    """A PNG header claiming 100,000 x 100,000 pixels, with a tiny compressed body."""
    def chunk(kind, data):
        return (struct.pack(">I", len(data)) + kind + data
                + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF))
    header = struct.pack(">IIBBBBB", 100_000, 100_000, 8, 2, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header)
            + chunk(b"IDAT", zlib.compress(b"\0" * 1000)) + chunk(b"IEND", b""))


def zip_bomb():
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("photo.jpg", b"\0" * 10_000_000)
    return buffer.getvalue()


def heic_with_huge_declared_size():
    buffer = io.BytesIO()
    Image.new("RGB", (64, 64), "red").save(buffer, "HEIF")
    data = bytearray(buffer.getvalue())
    at = data.find(b"ispe")
    data[at + 8:at + 16] = struct.pack(">II", 200_000, 200_000)
    return bytes(data)


def jpeg_with_comments(*comments):
    """A tiny photo with EXIF and a JPEG comment segment (at most 64 kB) per comment."""
    data = jpeg_bytes(size=(64, 64), exif=Image.Exif())
    segments = b"".join(b"\xff\xfe" + struct.pack(">H", len(text) + 2) + text
                        for text in comments)
    return data[:2] + segments + data[2:]


LARGEST_COMMENT = b"C" * 65533


def png_with(exif=None, text=None):
    """A PNG whose EXIF (a 1 MB UserComment) or text chunk is as large as given."""
    options = {}
    if exif is not None:
        tags = Image.Exif()
        tags[0x9286] = exif  # UserComment
        options["exif"] = tags
    if text is not None:
        info = PngImagePlugin.PngInfo()
        info.add_text("Comment", text)
        options["pnginfo"] = info
    buffer = io.BytesIO()
    Image.new("RGB", (64, 64), "red").save(buffer, "PNG", **options)
    return buffer.getvalue()


def motion_photo():
    """A JPEG followed by a video, as Samsung and Google phones save them."""
    video = b"\x00\x00\x00\x18ftypmp42" + random.Random(7).randbytes(300_000)
    return jpeg_bytes() + video


REFUSED = {
    "html with a jpeg header (polyglot)": b"\xff\xd8\xff\xe0" + b"<html><script>alert(1)</script>",
    "jpeg followed by html (polyglot)": jpeg_bytes() + b"<html><script>alert(1)</script></html>",
    "jpeg with an svg onload in a comment": jpeg_with_comments(b"<svg onload=alert(1)>"),
    "svg with script": b'<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"/>',
    "zip bomb": zip_bomb(),
    "png bomb": png_bomb(),
    "truncated jpeg": jpeg_bytes(size=(800, 600))[:1500],
    "heic with a huge declared size": heic_with_huge_declared_size(),
    "exif with a 1 MB comment (jpeg)": jpeg_with_comments(*[LARGEST_COMMENT] * 16),
    "exif with a 1 MB comment (png)": png_with(exif="C" * 1_000_000),
    "png with a 1 MB text chunk": png_with(text="C" * 1_000_000),
}
REASONS = {
    "jpeg followed by html (polyglot)": "contains web page code",
    "jpeg with an svg onload in a comment": "contains web page code",
    "exif with a 1 MB comment (jpeg)": "carries 1023 kB of hidden text",
    "exif with a 1 MB comment (png)": "hidden text (EXIF or comments)",
    "png with a 1 MB text chunk": "carries 976 kB of hidden text",
}
SANITISED = {
    "motion photo (a video after the jpeg)": motion_photo(),
    "jpeg with a 64 kB comment": jpeg_with_comments(LARGEST_COMMENT),
}


@pytest.fixture
def keyed(app):
    with app.app_context():
        apikeys.create_key(get_db(), "hostile", KEY)


def send(client, door, data):
    """Post one file through a door; the body is built in memory (large bodies through the
    test client's own encoder leave a temporary file open)."""
    photo = FileStorage(io.BytesIO(data), "photo.jpg", content_type="image/jpeg")
    if door == "web":
        url, fields = "/report/new", {"category": "pothole", "lon": "0.5", "photos": [photo]}
    else:
        url = "/open311/v2/requests.json"
        fields = {"service_code": "pothole", "long": "0.5", "media": [photo], "api_key": KEY}
    fields.update(lat="0.5", description="hostile file")
    boundary, body = encode_multipart(fields)
    return client.post(url, data=body, content_type=f"multipart/form-data; boundary={boundary}")


@pytest.mark.parametrize("door", ["web", "open311"])
@pytest.mark.parametrize("name", REFUSED)
def test_hostile_files_are_refused_and_nothing_is_stored(client, keyed, snapshot, door, name):
    before = snapshot()
    response = send(client, door, REFUSED[name])
    assert response.status_code == 400, response.data[:300]
    assert REASONS.get(name, "") in response.get_data(as_text=True)
    assert snapshot() == before


@pytest.mark.parametrize("door", ["web", "open311"])
@pytest.mark.parametrize("name", SANITISED)
def test_photos_with_harmless_extras_are_kept_as_pixels_only(client, keyed, door, name):
    """What phones add (a video after the image, a comment) is accepted, and nothing of it
    is stored or served."""
    response = send(client, door, SANITISED[name])
    assert response.status_code in (200, 303)
    page = client.get("/reports/1").get_data(as_text=True)
    for url in re.findall(r'(?:src|href)="(/photos/[^"]+)"', page):
        served = client.get(url)
        data = served.data
        served.close()
        assert b"ftypmp42" not in data and b"CCCC" not in data and b"Exif" not in data


def state_changing_rules():
    app = create_app({"TESTING": True})
    samples = {"report_id": "1", "position": "0", "fmt": "json", "update_id": "1",
               "token": "x", "code": "fr", "template_id": "1"}
    for rule in app.url_map.iter_rules():
        if "POST" in rule.methods:
            url = re.sub(r"<(?:[^:>]+:)?(\w+)>", lambda m: samples.get(m.group(1), "1"), rule.rule)
            yield pytest.param(url, id=rule.rule)


@pytest.mark.parametrize("url", list(state_changing_rules()))
@pytest.mark.parametrize("token", [None, "forged-token"])
def test_csrf_missing_or_wrong_is_refused_on_every_form(app, client, auth, snapshot, url, token):
    """Every POST needs a valid CSRF token, except Open311 (an API authenticated by api_key)
    and one-click unsubscribe (RFC 8058: mail programs post without one; the unguessable
    token in the address is the proof, and a wrong one is a 404)."""
    auth.login("admin@city.example")
    app.config["WTF_CSRF_ENABLED"] = True
    before = snapshot()
    data = {"status": "fixed", "lon": "0.5", "lat": "0.5", "category": "pothole",
            "description": "x", "email": "admin@city.example", "password": auth.PASSWORD}
    if token:
        data["csrf_token"] = token
    response = client.post(url, data=data)
    if url.startswith("/open311/"):
        assert response.status_code == 403  # no api_key
    elif url.endswith("/unsubscribe"):
        assert response.status_code == 404
    else:
        assert response.status_code == 400
        assert "reload the page" in response.get_data(as_text=True)
    assert snapshot() == before


SQL_METACHARACTERS = ["' OR 1=1 --", '"; DROP TABLE reports; --', "%", "_", "\\", "1) OR (1=1",
                      "pothole' UNION SELECT email FROM users --"]


@pytest.mark.parametrize("value", SQL_METACHARACTERS)
@pytest.mark.parametrize("path", [
    "/api/reports.geojson?status={v}", "/api/reports.geojson?category={v}",
    "/api/reports.csv?service={v}", "/reports?since={v}", "/reports.atom?until={v}",
    "/api/reports.geojson?bbox={v}", "/open311/v2/requests.json?service_code={v}",
    "/open311/v2/requests.json?status={v}", "/open311/v2/requests.json?service_request_id={v}",
    "/open311/v2/requests.json?start_date={v}", "/api/categories?lon={v}&lat=1",
])
def test_sql_metacharacters_in_filters_are_plain_values(client, snapshot, path, value):
    before = snapshot()
    response = client.get(path.format(v=value))
    assert response.status_code == 400
    assert snapshot() == before


@pytest.mark.parametrize("value", SQL_METACHARACTERS)
def test_sql_metacharacters_in_the_staff_search(client, auth, value):
    from tests.test_report_flow import post

    post(client, description="An ordinary pothole")
    auth.login("admin@city.example")
    page = client.get("/dispatch", query_string={"q": value, "status": "all"})
    assert page.status_code == 200
    assert "0 reports" in page.get_data(as_text=True)


FUZZ = settings(max_examples=150, deadline=None, suppress_health_check=list(HealthCheck))
TEXT = st.text(max_size=40)


MARKUP_SAMPLES = ["<script>", "<IFRAME src=x>", "<object data=x>", "<embed src=x>",
                  "<html>", "<Body onload=x>", "javascript:alert(1)", "onerror =alert(1)"]


@FUZZ
@given(st.binary(max_size=2000), st.sampled_from(MARKUP_SAMPLES), st.randoms(), st.binary(
    max_size=2000))
def test_web_page_code_is_found_anywhere_in_any_case(before, markup, rng, after):
    mixed = "".join(c.upper() if rng.random() < 0.5 else c.lower() for c in markup)
    with pytest.raises(PhotoError, match="web page code"):
        prepare_photo(jpeg_bytes(size=(16, 16)) + before + mixed.encode() + after, 10**6)


@FUZZ
@given(TEXT)
def test_bbox_parser_accepts_or_explains(text):
    try:
        bbox = public.parse_bbox(text)
    except ValidationError as error:
        assert str(error)
    else:
        assert len(bbox) == 4 and bbox[0] <= bbox[2] and bbox[1] <= bbox[3]


@FUZZ
@given(st.dictionaries(st.sampled_from(["bbox", "status", "category", "service", "since",
                                        "until"]), TEXT))
def test_report_query_parser_accepts_or_explains(tmp_path_factory, args):
    app = fuzz_app(tmp_path_factory)
    with app.app_context():
        try:
            public.parse_report_query(args, get_db())
        except ValidationError as error:
            assert str(error)


@FUZZ
@given(st.dictionaries(st.sampled_from(["service_request_id", "service_code", "start_date",
                                        "end_date", "status", "page", "page_size", "bbox",
                                        "lat", "long", "radius"]), TEXT))
def test_open311_search_parser_accepts_or_explains(tmp_path_factory, args):
    app = fuzz_app(tmp_path_factory)
    with app.app_context():
        try:
            georeport.search(args, get_db())
        except ValidationError as error:
            assert str(error)


@FUZZ
@given(st.dictionaries(st.sampled_from(["lon", "lat", "category", "description", "name",
                                        "email", "show_name"]), TEXT))
def test_report_form_answers_4xx_or_stores(tmp_path_factory, fields):
    app = fuzz_app(tmp_path_factory)
    response = app.test_client().post("/report/new", data=fields)
    assert response.status_code in (303, 400, 422)


_FUZZ_APPS = {}


def fuzz_app(tmp_path_factory):
    """One app with the drawn squares for all fuzzed examples (examples cannot use fixtures)."""
    if "app" not in _FUZZ_APPS:
        _FUZZ_APPS["app"] = make_app(tmp_path_factory.mktemp("fuzz"))
    return _FUZZ_APPS["app"]


@FUZZ
@given(st.dictionaries(st.sampled_from(["service_code", "lat", "long", "description", "email",
                                        "first_name", "last_name", "media_url",
                                        "jurisdiction_id"]), TEXT))
def test_open311_post_answers_4xx_or_stores(tmp_path_factory, fields):
    app = fuzz_app(tmp_path_factory)
    with app.app_context():
        if not apikeys.key_is_valid(get_db(), KEY):
            apikeys.create_key(get_db(), "fuzz", KEY)
    response = app.test_client().post("/open311/v2/requests.xml", data={**fields,
                                                                         "api_key": KEY})
    assert response.status_code in (200, 400, 404)


@FUZZ
@given(st.dictionaries(st.sampled_from(["status", "public_note", "internal_note", "reason",
                                        "duplicate_of", "reassign_to"]), TEXT))
def test_staff_status_form_answers_or_explains(tmp_path_factory, fields):
    """Whatever the form holds, the change is applied or refused with a message, never a 5xx."""
    app = fuzz_app(tmp_path_factory)
    client = app.test_client()
    with app.app_context():
        from app.storage import users as user_rows

        if user_rows.user_by_email(get_db(), "fuzz@city.example") is None:
            from app.dispatch.accounts import create_staff_user

            create_staff_user(get_db(), "fuzz@city.example", "hostile input password", "admin", [])
    client.post("/report/new", data={"lon": "0.5", "lat": "0.5", "category": "pothole",
                                     "description": "fuzzed"})
    client.post("/login", data={"email": "fuzz@city.example", "password": "hostile input password"})
    response = client.post("/dispatch/reports/1/status", data=fields)
    assert response.status_code == 302 or (
        400 <= response.status_code < 500 and 'role="alert"' in response.get_data(as_text=True))


def fuzzed_report(app):
    """Report 1 of the fuzz app (fixed, so it can be asked to reopen) and its private link;
    report 2 stays open, for supports."""
    client = app.test_client()
    with app.app_context():
        while row_counts(get_db())["reports"] < 2:
            client.post("/report/new", data={"lon": "0.5", "lat": "0.5",
                                             "category": "pothole", "description": "fuzzed"})
        token = report_rows.report_token(get_db(), 1)
    client.post(f"/reports/1/manage/{token}/fixed", data={"confirmed": "yes"})
    return client, f"/reports/1/manage/{token}"


def stores_nothing_unless_accepted(app, send, accepted):
    """Send once; a refusal (4xx) leaves every table as it was. Returns the status."""
    with app.app_context():
        before = row_counts(get_db())
    status = send().status_code
    assert status < 500
    if status not in accepted:
        with app.app_context():
            assert row_counts(get_db()) == before
    return status


@FUZZ
@given(st.dictionaries(st.sampled_from(["lon", "lat", "category"]), TEXT))
def test_nearby_query_answers_or_explains(tmp_path_factory, args):
    app = fuzz_app(tmp_path_factory)
    response = app.test_client().get("/api/reports/nearby", query_string=args)
    assert response.status_code in (200, 400)
    assert response.is_json


@FUZZ
@given(st.dictionaries(st.sampled_from(["near", "radius", "area", "category", "status"]), TEXT))
def test_feed_query_answers_or_explains(tmp_path_factory, args):
    app = fuzz_app(tmp_path_factory)
    response = app.test_client().get("/reports.atom", query_string=args)
    assert response.status_code in (200, 400, 404)


@FUZZ
@given(st.sampled_from(["/alerts", "/reports/2/subscribe", "/reports/2/support",
                        "/api/reports/2/support"]),
       st.dictionaries(st.sampled_from(["email", "kind", "lon", "lat", "radius", "area"]),
                       TEXT))
def test_alert_and_support_forms_store_only_what_they_accept(tmp_path_factory, path, fields):
    app = fuzz_app(tmp_path_factory)
    client, _ = fuzzed_report(app)
    status = stores_nothing_unless_accepted(app, lambda: client.post(path, data=fields),
                                            accepted=(200, 303))
    assert status in (200, 303, 400, 404)


@FUZZ
@given(st.sampled_from(["update", "fixed", "reopen", "reopen-request"]),
       st.dictionaries(st.sampled_from(["text", "note"]), TEXT), st.booleans())
def test_reporter_and_reopen_forms_store_only_what_they_accept(tmp_path_factory, action,
                                                               fields, confirmed):
    app = fuzz_app(tmp_path_factory)
    client, manage = fuzzed_report(app)
    path = "/reports/1/reopen-request" if action == "reopen-request" else f"{manage}/{action}"
    fields = {**fields, "confirmed": "yes"} if confirmed else fields
    status = stores_nothing_unless_accepted(app, lambda: client.post(path, data=fields),
                                            accepted=(303,))
    asks_first = action in ("fixed", "reopen") and not confirmed  # the confirmation page
    assert status in (303, 400) or (status == 200 and asks_first)


HUGE = "99999999999999999999"


@pytest.mark.parametrize(("method", "path"), [
    ("GET", f"/reports/{HUGE}"), ("GET", f"/open311/v2/requests/{HUGE}.json"),
    ("GET", f"/open311/v2/requests.json?service_request_id={HUGE}"),
    ("GET", f"/open311/v2/requests.json?page={HUGE}"), ("GET", f"/reports?page={HUGE}"),
    ("POST", f"/api/reports/{HUGE}/support"), ("GET", "/reports/0"),
])
def test_numbers_beyond_sqlite_are_4xx_not_5xx(client, method, path):
    """SQLite stores 64-bit integers; a larger id must be refused, not crash the query."""
    assert client.open(path, method=method).status_code in (200, 400, 404)


def test_huge_numbers_in_staff_forms(client, auth):
    from tests.test_report_flow import post

    post(client)
    auth.login("admin@city.example")
    assert client.get(f"/dispatch?page={HUGE}").status_code == 200
    assert client.post("/dispatch/bulk", data={"report": HUGE, "status": "fixed"}
                       ).status_code == 400
    response = client.post("/dispatch/reports/1/status",
                           data={"status": "duplicate", "duplicate_of": HUGE})
    assert response.status_code == 400
    assert client.post(f"/dispatch/reports/1/photos/{HUGE}/visibility").status_code == 404


@pytest.mark.parametrize("path", [
    "/reports?until=9999-12-31", "/open311/v2/requests.json?start_date=9999-12-31T00:00:00Z",
    "/open311/v2/requests.json?end_date=0001-01-01T00:00:00Z",
    "/open311/v2/servicerequestupdates.xml?start_date=9999-12-31T23:59:59Z",
])
def test_dates_at_the_edge_of_the_calendar(client, path):
    assert client.get(path).status_code in (200, 400)
