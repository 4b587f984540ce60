"""The public map on a phone, in a real Chromium: a popup near the edge stays open while the
map loads its new view, the filter panel never covers it, pins tell their status by shape and
symbol in colours that stay apart under colour-vision deficiencies, the keyboard alone opens a
pin, and the list beside the map offers the same reports as text."""

import itertools
import re
from pathlib import Path

import pytest
from colorspacious import cspace_convert, deltaE
from playwright.sync_api import expect

from tests.live import only_our_hosts, submit_report

pytestmark = pytest.mark.browser
MAP_CSS = Path(__file__).resolve().parent.parent / "static" / "css" / "map.css"
SPOT = (-118.29371, 34.00917)  # Exposition Park, away from the demo reports
STATUSES = ("new", "acknowledged", "in_progress", "fixed", "closed")
DEFICIENCIES = ("protanomaly", "deuteranomaly", "tritanomaly")
#: Least CAM02-UCS distance between two pin colours, also as seen with each deficiency
#: (about 1 is just noticeable; 20 is plainly another colour).
LEAST_DISTANCE = 20


@pytest.fixture
def phone(browser, demo_server):
    context = browser.new_context(viewport={"width": 390, "height": 844}, is_mobile=True,
                                  has_touch=True, base_url=demo_server.url)
    page = context.new_page()
    page.route("**/*", only_our_hosts())
    page.errors = []
    page.on("pageerror", lambda error: page.errors.append(str(error)))
    yield page
    assert page.errors == []
    context.close()


@pytest.fixture(scope="module")
def spot_report(browser, demo_server):
    context = browser.new_context(base_url=demo_server.url)
    url = submit_report(context.new_page(), lon=str(SPOT[0]), lat=str(SPOT[1]),
                        category="graffiti", description="Tags on the museum fence")
    context.close()
    return int(url.rsplit("/", 1)[1])


def map_call(page, script):
    name = page.get_attribute("#public-map", "data-map")
    return page.evaluate(f"(m => {script})(window['{name}'])")


def open_map_at(page, lon, lat, zoom=18):
    page.goto("/map")
    expect(page.locator("#map-status")).to_contain_text("in this view")
    with page.expect_response(re.compile(r"/api/reports\.geojson")):
        map_call(page, f"m.setView([{lat}, {lon}], {zoom}, {{animate: false}})")
    expect(page.locator("#map-status")).to_have_text("1 report in this view.")


def box(locator):
    return locator.bounding_box()


def overlaps(a, b):
    return (a["x"] < b["x"] + b["width"] and b["x"] < a["x"] + a["width"]
            and a["y"] < b["y"] + b["height"] and b["y"] < a["y"] + a["height"])


def inside(inner, outer):
    return (inner["x"] >= outer["x"] and inner["y"] >= outer["y"]
            and inner["x"] + inner["width"] <= outer["x"] + outer["width"]
            and inner["y"] + inner["height"] <= outer["y"] + outer["height"])


def test_the_popup_stays_open_after_opening_a_pin_near_the_edge(phone, spot_report):
    open_map_at(phone, *SPOT)
    # Move the pin to the bottom right corner: its popup must pan the map to fit.
    map_call(phone, "m.panBy([-150, -230], {animate: false})")
    pin = phone.locator(f".report-pin-button[aria-label^='Report #{spot_report}:']")
    expect(pin).to_be_visible()
    centre = map_call(phone, "m.getCenter()")
    with phone.expect_response(re.compile(r"/api/reports\.geojson")):
        pin.tap()
    popup = phone.locator(".leaflet-popup")
    expect(phone.locator("#map-status")).to_have_text("1 report in this view.")
    assert map_call(phone, "m.getCenter()") != centre  # the popup panned the map
    expect(popup).to_contain_text(f"Open report #{spot_report}")
    expect(popup).to_be_in_viewport(ratio=1)  # waits for the pan to end
    assert inside(box(popup), box(phone.locator("#public-map")))
    assert not overlaps(box(popup), box(phone.locator("#map-panel")))


def test_the_filter_panel_folds_away_from_an_opened_popup(phone, spot_report):
    open_map_at(phone, *SPOT)
    phone.click("#map-panel summary")
    expect(phone.locator("#map-panel")).to_have_attribute("open", "")
    phone.locator("#map-list").get_by_role(
        "button", name=f"Show report #{spot_report} on the map").click()
    popup = phone.locator(".leaflet-popup")
    expect(popup).to_be_visible()
    expect(phone.locator("#map-panel")).not_to_have_attribute("open", "")
    assert not overlaps(box(popup), box(phone.locator("#map-panel")))


def test_keyboard_alone_opens_a_pin(phone, spot_report):
    open_map_at(phone, *SPOT)
    label = phone.locator(".report-pin-button").get_attribute("aria-label")
    assert label == f"Report #{spot_report}: Graffiti, New"
    for _ in range(80):
        phone.keyboard.press("Tab")
        focused = phone.evaluate("document.activeElement.getAttribute('aria-label')")
        if focused == label:
            break
    else:
        pytest.fail("Tab never reached the report's pin")
    phone.keyboard.press("Enter")
    expect(phone.locator(".report-popup")).to_contain_text(f"Open report #{spot_report}")
    assert phone.evaluate("document.activeElement.getAttribute('aria-label')") == label


def test_the_list_offers_the_reports_of_the_view_as_text(phone, spot_report):
    open_map_at(phone, *SPOT)
    items = phone.locator("#map-list-items li")
    expect(items).to_have_count(1)
    expect(items).to_contain_text(f"#{spot_report} Graffiti")
    expect(items).to_contain_text("New")
    expect(items.get_by_role("link")).to_have_attribute(
        "href", re.compile(rf"/reports/{spot_report}$"))
    map_call(phone, "m.setView([34.05, -118.25], 10, {animate: false})")
    expect(phone.locator("#map-list-note")).to_contain_text(
        re.compile(r"The 100 newest of the \d+ reports in this view"))
    expect(items).to_have_count(100)
    dates = [item.get_attribute("data-created") for item in items.all()]
    assert dates == sorted(dates, reverse=True)


def pin_looks(page):
    """What tells each status apart in the key, without its colour."""
    return page.evaluate("""() => [...document.querySelectorAll('#pin-legend li')].map(li => {
        const pin = li.querySelector('.report-pin'), style = getComputedStyle(pin);
        return [li.dataset.status, style.borderRadius, style.transform, style.width,
                pin.textContent];
    })""")


def test_each_open_status_has_its_own_shape_and_symbol(phone):
    phone.goto("/map")
    looks = {row[0]: row[1:] for row in pin_looks(phone)}
    shapes = [tuple(looks[status][:3]) for status in STATUSES]
    symbols = [looks[status][3] for status in STATUSES]
    assert len(set(shapes)) == len(STATUSES)
    assert len(set(symbols)) == len(STATUSES)


def css_colours():
    text = MAP_CSS.read_text()
    return {name: tuple(int(value[i:i + 2], 16) / 255 for i in (1, 3, 5))
            for name, value in re.findall(r"--pin-([a-z_]+(?:-ink)?): (#[0-9a-f]{6})", text)}


def relative_luminance(rgb):
    linear = [c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in rgb]
    return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]


def contrast(a, b):
    light, dark = sorted((relative_luminance(a), relative_luminance(b)), reverse=True)
    return (light + 0.05) / (dark + 0.05)


@pytest.mark.parametrize("deficiency", [None, *DEFICIENCIES])
def test_pin_colours_stay_apart_under_colour_vision_deficiencies(deficiency):
    colours = css_colours()
    fills = [colours[status] for status in STATUSES]
    if deficiency:
        space = {"name": "sRGB1+CVD", "cvd_type": deficiency, "severity": 100}
        fills = [cspace_convert(fill, space, "sRGB1").clip(0, 1) for fill in fills]
    for a, b in itertools.combinations(fills, 2):
        assert deltaE(a, b, input_space="sRGB1") >= LEAST_DISTANCE


def test_pin_symbols_contrast_with_their_fill():
    colours = css_colours()
    for status in STATUSES:
        assert contrast(colours[status], colours[f"{status}-ink"]) >= 4.5, status
