"""Issue 13, point 14: category, area and service names reach scripts and map tooltips as
text. A hostile name is set up the ways an operator's data arrives (a category name, and a
boundary file's name and service fields), then every map that shows it is opened in Chromium.
"""

import json
import os
import re
from pathlib import Path

import pytest

from app.dispatch.accounts import create_staff_user
from app.storage import catalog
from app.web.db import get_db
from tests.factories import make_app
from tests.live import TILE_HOST, LiveServer, log_in, only_our_hosts, submit_report

pytestmark = pytest.mark.browser
#: Breaks out of the script element and into HTML; the second runs inside folium's template
#: literal, which is how the report page ran a category name despite the CSP.
CATEGORY = ("</script><script>window.__pwned='script'</script>"
            "<img src=x onerror=\"window.__pwned='img'\">")
LITERAL = "${window.__pwned='literal'} ${alert('literal')}"
CATEGORIES = {"trap": CATEGORY, "literal": LITERAL}
AREA = "<img src=x onerror=window.__pwned='area'>"
SERVICE = "<img src=x onerror=window.__pwned='service'>"
ADMIN = ("admin@city.example", "correct horse battery")
SQUARE_C = [[2, 0], [3, 0], [3, 1], [2, 1], [2, 0]]
SPOT = ("2.5", "0.5")
#: Where to keep the screenshots (looked at by hand); none are taken when it is unset.
SHOTS = os.environ.get("NAMES_SCREENSHOTS")


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    """Two squares plus square C from a boundary file whose names are payloads."""
    folder = tmp_path_factory.mktemp("names")
    app = make_app(folder, TILE_URL=f"https://{TILE_HOST}/{{z}}/{{x}}/{{y}}.png")
    boundary = folder / "hostile.geojson"
    boundary.write_text(json.dumps({"type": "FeatureCollection", "features": [{
        "type": "Feature", "geometry": {"type": "Polygon", "coordinates": [SQUARE_C]},
        "properties": {"area_name": AREA, "department": SERVICE}}]}))
    with app.app_context():
        for code, name in CATEGORIES.items():
            catalog.ensure_category(get_db(), code, name)
        create_staff_user(get_db(), *ADMIN, "admin", [])
    result = app.test_cli_runner().invoke(args=[
        "areas", "load", str(boundary), "--service-field", "department",
        "--categories", ",".join(CATEGORIES), "--name-field", "area_name"])
    assert result.exit_code == 0, result.output
    with LiveServer(app) as live:
        yield live


@pytest.fixture(params=[(390, 844), (1366, 768)], ids=["phone", "desktop"])
def page(request, browser, server):
    """A page that records dialogs and script errors; tiles are blank, no other host loads."""
    width, height = request.param
    context = browser.new_context(viewport={"width": width, "height": height},
                                  base_url=server.url)

    context.route(re.compile(".*"), only_our_hosts())
    page = context.new_page()
    page.dialogs, page.errors, page.size = [], [], f"{width}x{height}"
    page.on("dialog", lambda dialog: (page.dialogs.append(dialog.message), dialog.dismiss()))
    page.on("pageerror", lambda error: page.errors.append(str(error)))
    yield page
    context.close()


def nothing_ran(page):
    assert page.evaluate("window.__pwned") is None
    assert page.locator("img[src='x']").count() == 0
    assert page.dialogs == [] and page.errors == []


def screenshot(page, name):
    if SHOTS:
        Path(SHOTS).mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(Path(SHOTS) / f"{name}-{page.size}.png"))


@pytest.mark.parametrize("category", list(CATEGORIES))
def test_a_category_name_is_text_on_the_report_page_and_its_tooltip(page, category):
    report_url = submit_report(page, lon=SPOT[0], lat=SPOT[1], category=category,
                               description="Something odd")
    page.goto(report_url)
    assert CATEGORIES[category] in page.text_content("main")
    assert AREA in page.text_content("main") and SERVICE in page.text_content("main")
    page.locator(".leaflet-marker-icon").hover()
    tooltip = page.locator(".leaflet-tooltip")
    tooltip.wait_for()
    assert tooltip.inner_text().strip() == CATEGORIES[category]
    screenshot(page, f"report-{category}")
    nothing_ran(page)


def test_area_and_service_names_are_text_in_the_public_map_tooltip(page):
    page.goto("/map")
    page.click("#map-panel summary")
    page.check("#show-areas")
    page.click("#map-panel summary")
    page.locator('path[stroke="#0b5cad"]').nth(2).wait_for()
    name = page.get_attribute("#public-map", "data-map")
    page.evaluate(f"window['{name}'].fitBounds([[0, 2], [1, 3]], {{animate: false}})")
    page.mouse.move(*inside_square_c(page))
    tooltip = page.locator(".leaflet-tooltip")
    tooltip.wait_for()
    assert tooltip.inner_text().strip() == f"{AREA} ({SERVICE})"
    screenshot(page, "map")
    nothing_ran(page)


def test_a_category_name_is_text_in_the_staff_map_popup(page):
    """The staff page's map of open reports nearby labels each with its category."""
    submit_report(page, lon=SPOT[0], lat=SPOT[1], category="trap", description="Odd")
    other = submit_report(page, lon="2.5005", lat=SPOT[1], category="trap", description="Odd")
    page.goto("/login")
    log_in(page, *ADMIN)
    page.goto("/dispatch?status=all&category=trap")
    assert CATEGORY in page.text_content("table.queue")
    page.goto(other.replace("/reports/", "/dispatch/reports/"))
    same_category = page.locator(".leaflet-overlay-pane path.leaflet-interactive[fill='#a4161a']")
    same_category.first.dispatch_event("click")
    link = page.locator(".leaflet-popup-content a")
    link.wait_for()
    assert re.fullmatch(rf"#\d+ {re.escape(CATEGORY)}", link.inner_text().strip())
    assert re.search(r"#nearby-\d+$", link.get_attribute("href"))
    screenshot(page, "queue")
    nothing_ran(page)


def inside_square_c(page):
    """A point of square C, which fills the map's view, away from the pins at its centre."""
    box = page.locator("#public-map").bounding_box()
    offset = min(box["width"], box["height"]) / 4
    return box["x"] + box["width"] / 2 - offset, box["y"] + box["height"] / 2 - offset
