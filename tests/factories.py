"""Small factories: rows with sensible defaults, any field overridable."""

import io
import re

import shapely
from flask.testing import FlaskClient
from PIL import Image

from app import create_app
from app.storage import areas as area_rows
from app.storage import catalog, upgrade
from app.web.db import get_db
from tests import engines

OPEN311_KEY = "test-key-0123456789"
SQUARE_A = shapely.box(0, 0, 1, 1)
SQUARE_B = shapely.box(1, 0, 2, 1)


def make_service(db, code="roads", name="Roads department", **overrides):
    return catalog.ensure_service(db, code, name, **overrides)


def make_category(db, code="pothole", name="Pothole"):
    return catalog.ensure_category(db, code, name)


def make_layer(db, layer="test-layer", areas=None):
    """Store a boundary version of ``areas`` (dicts: service, categories, geometry, name)."""
    rows = []
    for number, area in enumerate(areas or [], start=1):
        geometry = area["geometry"]
        rows.append({
            "service_id": make_service(db, area["service"], area.get("service_name")),
            "name": area.get("name", f"Area {number}"),
            "priority": area.get("priority", 0),
            "size_m2": area.get("size_m2", geometry.area * 1e10),
            "bounds": shapely.bounds(geometry).tolist(),
            "wkb": shapely.to_wkb(geometry),
            "properties": {},
            "category_ids": [make_category(db, c) for c in area["categories"]],
        })
    return area_rows.add_layer_version(db, layer, "factory", [], rows)


def make_two_squares(db):
    """Square A (0..1) for the roads service, square B (1..2) for lights; both take potholes."""
    make_category(db, "pothole", "Pothole")
    make_category(db, "streetlight", "Street light out")
    make_category(db, "graffiti", "Graffiti")
    return make_layer(db, "squares", [
        {"service": "roads", "service_name": "Roads department",
         "categories": ["pothole"], "geometry": SQUARE_A, "name": "Square A"},
        {"service": "lights", "service_name": "Street lighting",
         "categories": ["pothole", "streetlight"], "geometry": SQUARE_B, "name": "Square B"},
    ])


def jpeg_bytes(size=(640, 480), color=(200, 30, 30), exif=None, **save_options):
    image = Image.new("RGB", size, color)
    buffer = io.BytesIO()
    if exif is not None:
        save_options["exif"] = exif
    image.save(buffer, "JPEG", **save_options)
    return buffer.getvalue()


def gps_exif(lon, lat, orientation=None):
    """An Exif block with a GPS position (and optionally an orientation)."""
    exif = Image.Exif()
    gps = {
        1: "N" if lat >= 0 else "S",
        2: _dms(abs(lat)),
        3: "E" if lon >= 0 else "W",
        4: _dms(abs(lon)),
    }
    exif[0x8825] = gps
    exif[0x010F] = "TestCam"
    if orientation:
        exif[0x0112] = orientation
    return exif


def _dms(value):
    degrees = int(value)
    minutes = int((value - degrees) * 60)
    seconds = round(((value - degrees) * 60 - minutes) * 60, 4)
    return (degrees, minutes, seconds)


class ClosingClient(FlaskClient):
    """A test client that reads each answer whole and closes it, as a WSGI server does at
    the end of a body, so what a response releases on close (an export slot) is released."""

    def open(self, *args, buffered=True, **kwargs):
        return super().open(*args, buffered=buffered, **kwargs)


def make_app(folder, **config):
    """An app on a fresh database in ``folder`` with the two squares, CSRF and limits off."""
    app = create_app({
        "TESTING": True, "SECRET_KEY": "test", "WTF_CSRF_ENABLED": False,
        "RATE_LIMITS_ON": False, **engines.current.config(folder),
        "PHOTO_STORE": str(folder / "photos"),
        "RATE_LIMIT_DATABASE": str(folder / "rate-limits.sqlite3"), **config,
    })
    app.test_client_class = ClosingClient
    engines.current.drop_when_collected(app)
    with app.app_context():
        upgrade(get_db())
        make_two_squares(get_db())
    return app


def without_random_values(html):
    """The page without what differs on every load: form tokens, script nonces, map ids."""
    html = re.sub(r'(name="csrf_token" value|name="csrf-token" content|nonce)="[^"]+"', "",
                  html)
    return re.sub(r"\b(\w+)_[0-9a-f]{32}\b", r"\1", html)
