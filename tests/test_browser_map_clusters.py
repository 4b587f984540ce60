"""The server's clusters in a real Chromium: on a phone and on a desktop, at every zoom the
Paris data clusters at, and whatever grid the server answers with, no two cluster markers
overlap on screen; merging them keeps every report counted, and each stays a button that
names its count and zooms in."""

import json
import math
import re
from pathlib import Path

import pytest
from playwright.sync_api import expect

from tests.axe import assert_accessible
from tests.live import only_our_hosts

pytestmark = pytest.mark.browser
CENTRE = (2.3488, 48.8566)  # where the Paris map opens, at zoom 12
PHONE = {"viewport": {"width": 390, "height": 844}, "is_mobile": True, "has_touch": True}
DESKTOP = {"viewport": {"width": 1366, "height": 768}}
SHOTS = Path("/tmp/shots/clusters")
#: The zooms each size is checked at, from the opening one: all cluster the Paris data.
ZOOMS = {"390": (12, 13, 11, 10), "1366": (12, 14, 11, 10)}
#: Every server cluster marker on screen: its box, its count (from its title), the text it
#: shows, its role and tab stop.
CLUSTERS = """() => [...document.querySelectorAll('.server-cluster')].map(e => {
    const r = e.getBoundingClientRect();
    return {x: r.x, y: r.y, width: r.width, height: r.height,
            count: Number(e.title.replace(/\\D/g, '')), title: e.title, text: e.textContent,
            tabindex: e.getAttribute('tabindex'), role: e.getAttribute('role')};
})"""


@pytest.fixture(params=["390", "1366"])
def page(request, browser, paris_server):
    size = request.param
    context = browser.new_context(base_url=paris_server.url, locale="en-GB",
                                  **(PHONE if size == "390" else DESKTOP))
    page = context.new_page()
    page.size = size
    page.route("**/*", only_our_hosts())
    page.errors = []
    page.on("pageerror", lambda error: page.errors.append(str(error)))
    yield page
    assert page.errors == []
    context.close()


def map_call(page, script):
    name = page.get_attribute("#public-map", "data-map")
    return page.evaluate(f"(m => {script})(window['{name}'])")


def status(page):
    return page.locator("#map-status")


def drawn(page, script):
    """Run ``script`` on the map (``m``), then wait until the answer to the view's request is
    drawn (the status line, emptied first, is written again): the answer, the clusters."""
    page.evaluate("document.getElementById('map-status').textContent = ''")
    with page.expect_response(re.compile(r"/api/reports\.geojson\?")) as response:
        map_call(page, script)
    expect(status(page)).not_to_be_empty()
    page.asked = response.value.url
    return response.value.json(), page.evaluate(CLUSTERS)


def screenshot(page, name):
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{name}.png"))


def overlapping(boxes):
    """The pairs of boxes that share any area."""
    return [(a, b) for i, a in enumerate(boxes) for b in boxes[i + 1:]
            if a["x"] < b["x"] + b["width"] and b["x"] < a["x"] + a["width"]
            and a["y"] < b["y"] + b["height"] and b["y"] < a["y"] + a["height"]]


def assert_apart_and_all_counted(answer, clusters, where):
    assert answer["clustered"], where
    assert clusters, where
    assert overlapping(clusters) == [], f"{where}: {len(overlapping(clusters))} overlaps"
    total = sum(f["properties"]["count"] for f in answer["features"])
    assert sum(c["count"] for c in clusters) == total, where


def test_paris_clusters_never_overlap_at_any_zoom(page):
    page.goto("/map")
    expect(status(page)).to_contain_text("Many reports here")
    opening = map_call(page, "m.getZoom()")
    assert opening == ZOOMS[page.size][0]
    for zoom in ZOOMS[page.size]:
        answer, clusters = drawn(page, f"m.setView([{CENTRE[1]}, {CENTRE[0]}], {zoom}, "
                                       "{animate: false})")
        assert_apart_and_all_counted(answer, clusters, f"{page.size} px, zoom {zoom}")
        size = map_call(page, "m.getSize()")  # cells of about 30 px asked for (JS's rounding)
        assert f"&cells={math.floor(max(size['x'], size['y']) / 30 + 0.5)}" in page.asked
        assert all(c["role"] == "button" and c["tabindex"] == "0" for c in clusters)
        assert all(c["title"] == f"{c['count']} reports here: zoom in" for c in clusters)
        assert all(c["text"] == f"{c['count']:,}" for c in clusters)
        screenshot(page, f"paris-{page.size}-zoom-{zoom}")
    assert_accessible(page)


#: Markers glide to a new zoom's places (Leaflet.markercluster's transition): turned off, the
#: boxes read are where the markers are going, not where they pass.
STILL = """document.querySelectorAll('.server-cluster')
    .forEach(e => { e.style.transition = 'none'; })"""


def test_a_zoom_out_never_heaps_the_clusters_while_the_new_view_loads(page):
    """The clusters shown are laid out again at the new zoom at once, in the same task as the
    zoom: no answer can have come in between."""
    page.goto("/map")
    expect(status(page)).to_contain_text("Many reports here")
    answer, _ = drawn(page, f"m.setView([{CENTRE[1]}, {CENTRE[0]}], 13, {{animate: false}})")
    zoomed_out = map_call(page, f"({STILL}, m.setZoom(10, {{animate: false}}), ({CLUSTERS})())")
    assert_apart_and_all_counted(answer, zoomed_out, f"{page.size} px, zoomed out to 10")


def dense_grid():
    """A server answer no client can draw as it is: 41 x 41 clusters 0.001 degrees apart
    (3 px at zoom 12) around the centre, of 1 to 1,500 reports each."""
    features = [{"type": "Feature",
                 "geometry": {"type": "Point",
                              "coordinates": [CENTRE[0] + 0.001 * i, CENTRE[1] + 0.001 * j]},
                 "properties": {"count": (7 * i + 13 * j) % 1500 + 1}}
                for i in range(-20, 21) for j in range(-20, 21)]
    return {"type": "FeatureCollection", "clustered": True, "features": features}


def test_whatever_grid_the_server_sends_the_clusters_stay_apart_and_zoom_in(page):
    answer = dense_grid()
    page.route(re.compile(r"/api/reports\.geojson\?"), lambda route: route.fulfill(
        status=200, content_type="application/geo+json", body=json.dumps(answer)))
    page.goto("/map")
    expect(status(page)).to_contain_text("Many reports here")
    clusters = page.evaluate(CLUSTERS)
    assert_apart_and_all_counted(answer, clusters, f"{page.size} px, a dense grid")
    assert len(clusters) < 60  # one heap of 1,681 became a few readable clusters
    big = [c["text"] for c in clusters if c["count"] >= 100_000]  # short, to fit: 432.2k
    assert big and all(re.fullmatch(r"\d+(\.\d)?[kKM]", text) for text in big), big
    screenshot(page, f"dense-grid-{page.size}")

    page.locator(".server-cluster").first.focus()
    with page.expect_response(re.compile(r"/api/reports\.geojson\?")):
        page.keyboard.press("Enter")
    assert map_call(page, "m.getZoom()") == 14
    expect(page.locator(".leaflet-container")).to_be_focused()
    with page.expect_response(re.compile(r"/api/reports\.geojson\?")):
        page.locator(".server-cluster").last.click()
    assert map_call(page, "m.getZoom()") == 16
