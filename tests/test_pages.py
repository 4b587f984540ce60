"""Pages and small APIs: assets served by us, no third-party hosts, clear API errors."""

import io
import re

import pytest

from tests.factories import gps_exif, jpeg_bytes
from tests.test_report_flow import post

TILE_HOST = "tile.openstreetmap.org"


def external_urls(html):
    """Every absolute or protocol-relative address a page loads or links to."""
    return re.findall(r'(?:src|href)="((?:https?:)?//[^"]+)"', html)


@pytest.mark.parametrize("path", ["/", "/report/new"])
def test_pages_load_assets_only_from_us(client, path):
    html = client.get(path).get_data(as_text=True)
    for url in external_urls(html):
        assert TILE_HOST in url or "openstreetmap.org/copyright" in url, url


def test_report_page_assets_are_ours_and_served(client):
    html = client.get(post(client).headers["Location"]).get_data(as_text=True)
    assets = re.findall(r'(?:src|href)="(/vendor/[^"]+)"', html)
    assert {a.rsplit("/", 1)[-1] for a in assets} >= {"leaflet.js", "leaflet.css"}
    assert "jquery" not in html
    for asset in assets:
        response = client.get(asset)
        response.close()
        assert response.status_code == 200
        assert "immutable" in response.headers["Cache-Control"]
    assert not [u for u in external_urls(html)
                if "openstreetmap" not in u and not u.startswith("http://localhost/")]


@pytest.mark.parametrize("path", ["/vendor/unknown/1/x.js", "/vendor/leaflet/0.0/leaflet.js",
                                  "/vendor/leaflet/1.9.3/../../../etc/passwd"])
def test_vendor_refuses_anything_else(client, path):
    assert client.get(path).status_code == 404


def test_categories_api(client):
    everything = client.get("/api/categories").get_json()["categories"]
    assert {c["code"] for c in everything} == {"pothole", "streetlight", "graffiti"}
    at_a = client.get("/api/categories?lon=0.5&lat=0.5").get_json()["categories"]
    assert [c["code"] for c in at_a] == ["pothole"]
    at_b = client.get("/api/categories?lon=1.5&lat=0.5").get_json()["categories"]
    assert [c["code"] for c in at_b] == ["pothole", "streetlight"]


@pytest.mark.parametrize(("query", "status", "message"), [
    ("lon=5&lat=5", 422, "outside the area we cover"),
    ("lon=x&lat=0.5", 400, "not a number"),
    ("lon=0.5", 400, "latitude is missing"),
])
def test_categories_api_errors_are_json(client, query, status, message):
    response = client.get(f"/api/categories?{query}")
    assert response.status_code == status
    assert message in response.get_json()["error"]["message"]


def test_unknown_report_and_photo_are_404(client):
    assert "no report number 999" in client.get("/reports/999").get_data(as_text=True)
    assert client.get("/photos/" + "0" * 64 + ".jpg").status_code == 404
    assert client.get("/photos/../../etc/passwd").status_code == 404


def test_photo_position_api_stores_nothing(client, snapshot):
    before = snapshot()
    data = {"photos": [(io.BytesIO(jpeg_bytes(exif=gps_exif(-118.25, 34.05))), "p.jpg")]}
    response = client.post("/api/photo-position", data=data, content_type="multipart/form-data")
    assert response.get_json()["position"] == pytest.approx({"lon": -118.25, "lat": 34.05})
    assert snapshot() == before
    bad = client.post("/api/photo-position", data={"photos": [(io.BytesIO(b"nope"), "x.jpg")]},
                      content_type="multipart/form-data")
    assert bad.status_code == 400 and "not an image" in bad.get_json()["error"]["message"]


@pytest.mark.parametrize("path", ["/", "/report/new", "/map", "/reports", "/api/reports.csv"])
def test_security_headers_on_every_response(client, path):
    response = client.get(path)
    response.close()
    csp = response.headers["Content-Security-Policy"]
    assert "frame-ancestors 'none'" in csp and "object-src 'none'" in csp
    assert "script-src 'self' 'nonce-" in csp and "unsafe-eval" not in csp
    assert "img-src 'self' data: blob: https://tile.openstreetmap.org" in csp
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Referrer-Policy"] == "strict-origin-when-cross-origin"


def test_inline_scripts_carry_the_responses_nonce(client):
    response = client.get("/report/new")
    nonce = re.search(r"'nonce-([^']+)'", response.headers["Content-Security-Policy"]).group(1)
    html = response.get_data(as_text=True)
    inline = re.findall(r"<script(?![^>]*\bsrc=)([^>]*)>", html)
    assert inline and all(f'nonce="{nonce}"' in attributes for attributes in inline)


def test_production_refuses_the_development_secret_key(tmp_path):
    from app import create_app
    from app.web.security import InsecureConfiguration

    with pytest.raises(InsecureConfiguration, match="CIVIC_SECRET_KEY"):
        create_app({"ENV_NAME": "production", "SECRET_KEY": "dev"})
    app = create_app({"ENV_NAME": "production", "SECRET_KEY": "x" * 40,
                      "DATABASE": str(tmp_path / "p.sqlite3")})
    assert app.config["ENV_NAME"] == "production"
