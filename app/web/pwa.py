"""Installable and usable offline: the web app manifest, its icons (drawn here with Pillow, so
no image is committed) and the service worker, served from the site's root so that it may
look after every public page.

The worker keeps the app shell (the home page, the report form, the map page, their styles
and scripts, the vendored libraries) and nothing else: never an API answer, a staff page, a
private link's page, a photo or a tile. What a resident writes offline is kept by the page
(static/js/drafts.js, in IndexedDB), not by the worker.
"""

import hashlib
import io
import json
from functools import lru_cache
from pathlib import Path

from flask import Blueprint, Response, abort, current_app, render_template, url_for
from flask_babel import gettext as _
from PIL import Image, ImageDraw

from app.web import assets

bp = Blueprint("pwa", __name__)
ICON_SIZES = (192, 512)
BRAND = "#0b5cad"
#: Pages kept for offline use; each is fetched by the worker, never from a reader's answers.
SHELL_PAGES = ("reports.home", "reports.new_report", "reports.public_map")
#: Our static files kept: every style and script (a few dozen kilobytes compressed).
SHELL_STATIC = ("css/*.css", "js/*.js")
#: Leaflet's own pictures: the form's pin and its shadow.
LEAFLET_IMAGES = ("marker-icon.png", "marker-icon-2x.png", "marker-shadow.png")
#: Paths the worker never answers from its cache nor keeps.
NEVER_CACHED = ("/api/", "/dispatch", "/login", "/logout", "/open311", "/photos/",
                "/alerts/", "/supports/", "/language/")


def shell_urls():
    """The URLs the worker keeps: pages, our static files (by content hash), and the
    vendored libraries (by package version)."""
    vendored = assets.map_assets(cluster=True)
    return [
        *(url_for(endpoint) for endpoint in SHELL_PAGES),
        *(url_for("static", filename=name) for name in static_files()),
        *vendored.scripts, *vendored.stylesheets,
        *(assets.vendor_url("leaflet", f"images/{name}") for name in LEAFLET_IMAGES),
        *(url_for("pwa.icon", size=size) for size in ICON_SIZES),
    ]


def static_files():
    folder = Path(current_app.static_folder)
    return sorted(path.relative_to(folder).as_posix()
                  for pattern in SHELL_STATIC for path in folder.glob(pattern))


@bp.get("/sw.js")
def service_worker():
    """The worker script; its cache name changes whenever a kept file does."""
    shell = shell_urls()
    version = hashlib.sha256(json.dumps(shell).encode()).hexdigest()[:12]
    body = render_template("pwa/sw.js", shell=shell, version=version,
                           never_cached=NEVER_CACHED,
                           offline_page=url_for("reports.new_report"))
    response = Response(body, mimetype="text/javascript")
    response.cache_control.no_cache = True  # browsers look for a new worker on each visit
    return response


@bp.get("/manifest.webmanifest")
def manifest():
    site = current_app.config["SITE_NAME"]
    body = {
        "name": site,
        "short_name": site,
        "description": _("Report street problems to the city, even without a connection."),
        "lang": "en",
        "start_url": url_for("reports.new_report"),
        "scope": "/",
        "display": "standalone",
        "background_color": "#ffffff",
        "theme_color": BRAND,
        "icons": [{"src": url_for("pwa.icon", size=size), "sizes": f"{size}x{size}",
                   "type": "image/png", "purpose": "any maskable"} for size in ICON_SIZES],
    }
    return Response(json.dumps(body, ensure_ascii=False),
                    mimetype="application/manifest+json")


@bp.get("/icons/icon-<int:size>.png")
def icon(size):
    if size not in ICON_SIZES:
        abort(404)
    response = Response(icon_png(size), mimetype="image/png")
    response.cache_control.max_age = 24 * 3600
    response.cache_control.public = True
    return response


@lru_cache(maxsize=len(ICON_SIZES))
def icon_png(size):
    """A white map pin on the site's blue, inside the middle 60% (the safe zone of a
    maskable icon, which phones crop to a circle or a rounded square).

    >>> from PIL import Image; import io
    >>> Image.open(io.BytesIO(icon_png(192))).size
    (192, 192)
    """
    image = Image.new("RGB", (size, size), BRAND)
    draw = ImageDraw.Draw(image)
    unit = size / 10
    centre_x, head_y, radius = size / 2, 4.2 * unit, 1.9 * unit
    side = 0.85 * radius
    draw.polygon([(centre_x - side, head_y + radius / 2), (centre_x + side, head_y + radius / 2),
                  (centre_x, 7.6 * unit)], fill="white")
    draw.ellipse([centre_x - radius, head_y - radius, centre_x + radius, head_y + radius],
                 fill="white")
    hole = 0.75 * unit
    draw.ellipse([centre_x - hole, head_y - hole, centre_x + hole, head_y + hole], fill=BRAND)
    output = io.BytesIO()
    image.save(output, format="PNG", optimize=True)
    return output.getvalue()
