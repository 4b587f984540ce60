"""Text answers are compressed for browsers that ask; static files carry their content hash
in the URL and are cached for a year under it, never under a stale or plain name."""

import gzip
import re
import shutil

import brotli
import pytest
import requests
import xstatic.pkg.leaflet
from flask import url_for

from app.web.hashed_static import hashed_name
from tests.test_report_flow import post

STATIC_URL = re.compile(r'/static/js/map\.([0-9a-f]{12})\.js')
MAP_JS = "js/map.js"


def static_url(app, filename):
    with app.test_request_context():
        return url_for("static", filename=filename)


@pytest.mark.parametrize("encoding, decode", [("gzip", gzip.decompress),
                                              ("br", brotli.decompress)])
def test_map_data_is_compressed_as_the_browser_asks(client, encoding, decode):
    for number in range(5):
        assert post(client, lon=f"0.{number + 1}").status_code == 303
    url = "/api/reports.geojson?bbox=-180,-90,180,90"
    plain = client.get(url, headers={"Accept-Encoding": "identity"})
    packed = client.get(url, headers={"Accept-Encoding": encoding})
    assert "Content-Encoding" not in plain.headers
    assert packed.headers["Content-Encoding"] == encoding
    assert "Accept-Encoding" in packed.headers["Vary"]
    assert decode(packed.data) == plain.data


@pytest.mark.parametrize("path", ["/", "/map", "/report/new", "/reports?category=pothole"])
def test_pages_with_the_form_token_are_never_compressed(client, path):
    """A compressed page holding the session's CSRF token beside request text would leak the
    token to an eavesdropper through the answer's size (BREACH)."""
    page = client.get(path, headers={"Accept-Encoding": "gzip, br, zstd"})
    assert page.status_code == 200 and "Content-Encoding" not in page.headers
    assert 'name="csrf_token"' in page.get_data(as_text=True)


def test_scripts_are_compressed_and_decode_to_the_file(app, client):
    answer = client.get(static_url(app, MAP_JS), headers={"Accept-Encoding": "br"})
    assert answer.headers["Content-Encoding"] == "br"
    with open(app.static_folder + "/" + MAP_JS, "rb") as file:
        assert brotli.decompress(answer.data) == file.read()


def test_map_answers_are_compressed_on_the_real_server(demo_server):
    bbox = "-118.7,33.7,-118.1,34.4"
    answer = requests.get(f"{demo_server.url}/api/reports.geojson", params={"bbox": bbox},
                          headers={"Accept-Encoding": "gzip"}, timeout=30)
    assert answer.status_code == 200
    assert answer.headers["Content-Encoding"] == "gzip"
    assert answer.json()["type"] == "FeatureCollection"


def test_images_are_not_compressed_again(client):
    icon = f"/vendor/leaflet/{xstatic.pkg.leaflet.VERSION}/images/marker-icon.png"
    answer = client.get(icon, headers={"Accept-Encoding": "gzip, br"})
    assert answer.status_code == 200
    assert answer.mimetype == "image/png"
    assert "Content-Encoding" not in answer.headers


def test_vendored_scripts_are_compressed(client):
    leaflet = f"/vendor/leaflet/{xstatic.pkg.leaflet.VERSION}/leaflet.js"
    plain = client.get(leaflet)
    packed = client.get(leaflet, headers={"Accept-Encoding": "gzip"})
    assert packed.headers["Content-Encoding"] == "gzip"
    assert gzip.decompress(packed.data) == plain.data
    assert len(packed.data) < len(plain.data) / 2


def test_errors_are_readable_without_decoding(client):
    answer = client.get("/no-such-page", headers={"Accept-Encoding": "gzip"})
    assert answer.status_code == 404
    assert "Content-Encoding" not in answer.headers


def test_pages_name_static_files_by_content(app, client):
    page = client.get("/map").get_data(as_text=True)
    digest = STATIC_URL.search(page)[1]
    hashed = client.get(f"/static/js/map.{digest}.js")
    assert hashed.status_code == 200
    assert "max-age=31536000" in hashed.headers["Cache-Control"]
    assert "immutable" in hashed.headers["Cache-Control"]


@pytest.mark.parametrize("path", ["/static/js/map.js", "/static/js/map.000000000000.js"])
def test_plain_or_stale_names_answer_the_file_but_must_revalidate(client, app, path):
    answer = client.get(path)
    assert answer.status_code == 200
    assert "no-cache" in answer.headers["Cache-Control"]
    assert "immutable" not in answer.headers["Cache-Control"]
    with open(app.static_folder + "/" + MAP_JS, "rb") as file:
        assert answer.data == file.read()


def test_a_changed_file_gets_a_new_url(app, tmp_path):
    static = tmp_path / "static"
    shutil.copytree(app.static_folder, static)
    before = hashed_name(static, "css/app.css")
    (static / "css" / "app.css").write_text("body { color: black; }")
    after = hashed_name(static, "css/app.css")
    assert before != after
    assert re.fullmatch(r"css/app\.[0-9a-f]{12}\.css", after)


def test_missing_files_and_escapes_are_not_found(client):
    assert client.get("/static/js/nope.js").status_code == 404
    assert client.get("/static/../app/__init__.py").status_code == 404
    assert hashed_name("/nonexistent", "../x.js") == "../x.js"


def test_files_are_compressed_once_at_the_best_level(client):
    leaflet = f"/vendor/leaflet/{xstatic.pkg.leaflet.VERSION}/leaflet.js"
    plain = client.get(leaflet).data
    best = client.get(leaflet, headers={"Accept-Encoding": "gzip, deflate, br, zstd"})
    again = client.get(leaflet, headers={"Accept-Encoding": "br"})
    assert best.headers["Content-Encoding"] == "br"
    assert brotli.decompress(best.data) == plain
    assert len(best.data) < len(brotli.compress(plain, quality=4))
    assert again.data == best.data
    assert best.headers["ETag"] != client.get(leaflet).headers["ETag"]  # one per encoding


def test_an_unchanged_file_is_not_sent_again(client):
    leaflet = f"/vendor/leaflet/{xstatic.pkg.leaflet.VERSION}/leaflet.js"
    first = client.get(leaflet, headers={"Accept-Encoding": "br"})
    again = client.get(leaflet, headers={"Accept-Encoding": "br",
                                         "If-None-Match": first.headers["ETag"]})
    assert again.status_code == 304
