"""The report form finds the place (issue 15), in a real Chromium on a phone: the address
search as a combobox (touch and keyboard only), without JavaScript, a tap on the whole city
zooms in first, open reports near the pin, and a pin outside every area."""

import math
import re
from pathlib import Path

import pytest
from playwright.sync_api import expect

from app.web.db import get_db
from tests.axe import assert_accessible
from tests.live import only_our_hosts, submit_report

pytestmark = pytest.mark.browser
#: The demo's record at 977 N HILL ST, 90012 (MyLA311 2020), as (lon, lat).
HILL_STREET = (-118.2378404, 34.06655246)
HILL_TEXT = re.compile("977 N Hill St", re.IGNORECASE)
SHOTS = Path("/tmp/shots/time")


def metres_between(a, b):
    """Great-circle distance of two (lon, lat) points, in metres."""
    lon1, lat1, lon2, lat2 = map(math.radians, (*a, *b))
    h = (math.sin((lat2 - lat1) / 2) ** 2
         + math.cos(lat1) * math.cos(lat2) * math.sin((lon2 - lon1) / 2) ** 2)
    return 2 * 6371008.8 * math.asin(math.sqrt(h))


def open_phone(browser, server, **options):
    context = browser.new_context(viewport={"width": 390, "height": 844}, is_mobile=True,
                                  has_touch=True, base_url=server.url, **options)
    page = context.new_page()
    page.route("**/*", only_our_hosts())
    page.script_errors = []
    page.on("pageerror", lambda error: page.script_errors.append(str(error)))
    return page


@pytest.fixture
def phone(browser, demo_server):
    page = open_phone(browser, demo_server)
    yield page
    assert page.script_errors == []
    page.context.close()


def suggestions(page):
    return page.locator("#place-options [role=option]")


def map_zoom(page):
    return page.evaluate("window[document.getElementById('report-form').dataset.map].getZoom()")


def pin(page):
    return float(page.input_value("#lon")), float(page.input_value("#lat"))


def screenshot(page, name):
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)


def test_type_an_address_pick_it_and_the_report_says_where_and_when(phone):
    phone.goto("/report/new")
    search = phone.get_by_role("combobox", name="Street and number, or a place")
    search.press_sequentially("977 N Hill", delay=60)
    first = suggestions(phone).first
    expect(first).to_contain_text(HILL_TEXT)
    screenshot(phone, "form-suggestions-390")
    first.tap()

    expect(phone.locator("#location-status")).to_contain_text(HILL_TEXT)
    assert metres_between(pin(phone), HILL_STREET) < 30
    assert map_zoom(phone) >= 17
    expect(search).to_have_attribute("aria-expanded", "false")
    expect(search).to_have_value(HILL_TEXT)

    phone.select_option("#category", "graffiti")
    phone.fill("#description", "Tags all over the wall by the bus stop.")
    phone.get_by_role("button", name="Send report").click()
    phone.wait_for_url(re.compile(r"/reports/\d+$"))
    assert HILL_TEXT.search(phone.text_content("main"))
    reported = phone.locator("time").first.text_content()
    assert re.search(r"\d{1,2}:\d{2}\s?[AP]M P[SD]T$", reported), reported
    screenshot(phone, "report-page-390")
    assert_accessible(phone)


def keyboard_to(page, element_id, most=40):
    """Tab from the top of the page until ``element_id`` has the focus, as a keyboard user."""
    for _ in range(most):
        page.keyboard.press("Tab")
        if page.evaluate("document.activeElement.id") == element_id:
            return
    raise AssertionError(f"#{element_id} never got the focus by Tab")


def test_the_combobox_works_with_the_keyboard_alone(phone):
    phone.goto("/report/new")
    keyboard_to(phone, "place-query")
    phone.keyboard.type("figueroa", delay=40)
    search = phone.locator("#place-query")
    expect(search).to_have_attribute("aria-expanded", "true")
    expect(phone.locator("#place-search-status")).to_contain_text("arrows")
    options = suggestions(phone)
    assert options.count() >= 2

    phone.keyboard.press("ArrowDown")
    phone.keyboard.press("ArrowDown")
    phone.keyboard.press("ArrowUp")
    expect(search).to_have_attribute("aria-activedescendant", "place-option-0")
    expect(options.nth(0)).to_have_attribute("aria-selected", "true")
    expect(options.nth(1)).to_have_attribute("aria-selected", "false")
    phone.keyboard.press("ArrowUp")  # wraps round to the last
    last = options.count() - 1
    expect(search).to_have_attribute("aria-activedescendant", f"place-option-{last}")

    phone.keyboard.press("Escape")
    expect(search).to_have_attribute("aria-expanded", "false")
    expect(search).not_to_have_attribute("aria-activedescendant", re.compile("."))
    phone.keyboard.press("ArrowDown")  # opens again on the first
    expect(search).to_have_attribute("aria-expanded", "true")
    phone.keyboard.press("ArrowDown")
    expect(search).to_have_attribute("aria-activedescendant", "place-option-1")
    chosen = options.nth(1).text_content()
    phone.keyboard.press("Enter")
    expect(search).to_have_attribute("aria-expanded", "false")
    expect(search).to_have_value(chosen)
    expect(phone.locator("#location-status")).to_contain_text(chosen)
    assert phone.input_value("#lon") != ""
    assert phone.url.endswith("/report/new")  # Enter chose; it did not send either form


def test_a_newer_keystroke_cancels_the_request_in_flight(phone):
    asked = []
    phone.on("request", lambda r: asked.append(r.url) if "/api/places" in r.url else None)
    phone.goto("/report/new")
    search = phone.locator("#place-query")
    search.press_sequentially("977 N Hill St", delay=20)  # faster than the debounce
    expect(suggestions(phone).first).to_contain_text(HILL_TEXT)
    assert len(asked) < len("977 N Hill St") - 2  # debounced: not one request per key


#: Holds every /api/places answer back for a second, so a request is still in flight when
#: the next keystroke comes, and records which of them the page aborted.
SLOW_PLACES = """
(() => {
  const original = window.fetch;
  window.abortedSearches = [];
  window.fetch = (url, options) => {
    if (!String(url).includes("/api/places")) { return original(url, options); }
    return new Promise((resolve, reject) => {
      const later = setTimeout(() => original(url, options).then(resolve, reject), 1000);
      options.signal.addEventListener("abort", () => {
        clearTimeout(later);
        window.abortedSearches.push(String(url));
        reject(new DOMException("aborted", "AbortError"));
      });
    });
  };
})();
"""


def test_a_newer_search_aborts_the_one_in_flight_and_its_answer_never_shows(phone):
    phone.add_init_script(SLOW_PLACES)
    phone.goto("/report/new")
    search = phone.locator("#place-query")
    search.press_sequentially("figueroa")
    phone.wait_for_timeout(500)  # past the debounce: the search for "figueroa" is in flight
    search.press_sequentially(" st 9")
    expect(suggestions(phone).first).to_be_visible(timeout=10_000)
    assert phone.evaluate("window.abortedSearches.length") == 1
    assert "q=figueroa&" in phone.evaluate("window.abortedSearches[0]") + "&"
    assert phone.input_value("#place-query") == "figueroa st 9"


def test_without_javascript_the_search_lists_links_that_fill_the_position(browser, demo_server):
    page = open_phone(browser, demo_server, java_script_enabled=False)
    page.goto("/report/new")
    page.fill("#place-query", "977 n hill street")
    page.get_by_role("button", name="Find").click()
    expect(page.locator("#place-search-status")).to_contain_text("Choose the address")
    screenshot(page, "form-no-js-results-390")
    page.locator(".place-results a").first.click()
    expect(page.locator("#place-search-status")).to_contain_text(
        re.compile("The pin is at 977 N Hill St", re.IGNORECASE))
    assert metres_between(pin(page), HILL_STREET) < 30
    page.context.close()


def test_the_page_of_matches_passes_axe(phone):
    phone.goto("/report/new?place=977+n+hill")
    expect(phone.locator(".place-results a").first).to_be_visible()
    assert_accessible(phone)


def test_a_tap_on_the_whole_city_zooms_in_and_asks_for_a_second_tap(phone):
    phone.goto("/report/new")
    city_zoom = map_zoom(phone)
    box = phone.locator(".map-picker").bounding_box()
    centre = (box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    phone.mouse.click(*centre)
    expect(phone.locator("#location-status")).to_contain_text("tap again")
    assert phone.input_value("#lon") == ""
    assert map_zoom(phone) == 17 > city_zoom
    phone.wait_for_timeout(400)  # the zoom animation
    phone.mouse.click(*centre)
    expect(phone.locator("#location-status")).to_contain_text("Pin placed")
    assert phone.input_value("#lon") != ""


def test_pin_the_map_centre_on_the_whole_city_zooms_in_first(phone):
    phone.goto("/report/new")
    button = phone.get_by_role("button", name="Pin the map centre")
    button.click()
    expect(phone.locator("#location-status")).to_contain_text("press again")
    assert phone.input_value("#lon") == "" and map_zoom(phone) == 17
    button.click()
    expect(phone.locator("#location-status")).to_contain_text("Pin placed")
    assert phone.input_value("#lon") != ""


def test_open_reports_near_the_pin_are_drawn_lighter(phone):
    near = (HILL_STREET[0] + 0.0004, HILL_STREET[1])
    submit_report(phone, lon=str(near[0]), lat=str(near[1]), category="graffiti",
                  description="Graffiti on the retaining wall.")
    phone.goto("/report/new")
    phone.locator("#place-query").press_sequentially("977 N Hill", delay=40)
    suggestions(phone).first.tap()
    expect(phone.locator("path.already-reported").first).to_be_visible()
    screenshot(phone, "form-pin-and-reported-390")


def test_a_lighter_pin_tells_the_citys_day_not_the_utc_one(phone, demo_server):
    """8 PM on May 31 in Los Angeles is already June 1 in UTC."""
    near = (HILL_STREET[0] - 0.0006, HILL_STREET[1])
    url = submit_report(phone, lon=str(near[0]), lat=str(near[1]), category="graffiti",
                        description="Graffiti on the stairs.")
    with demo_server.app.app_context():
        get_db().execute("UPDATE reports SET created_at = '2024-06-01T03:00:00+00:00' "
                         "WHERE id = ?", [int(url.rsplit("/", 1)[1])])
    phone.goto("/report/new")
    phone.locator("#place-query").press_sequentially("977 N Hill", delay=40)
    suggestions(phone).first.tap()
    expect(phone.locator("path.already-reported").first).to_be_visible()
    name = phone.get_attribute("#report-form", "data-map")
    phone.evaluate(f"""window['{name}'].eachLayer(layer => {{
        if (layer.getPopup && layer.getPopup() && layer.getLatLng().lng < {near[0] + 1e-6})
          {{ layer.openPopup(); }} }})""")
    expect(phone.locator(".leaflet-popup-content")).to_contain_text("May 31, 2024")


def test_outside_the_areas_the_category_stays_and_the_message_says_what_is_covered(phone):
    phone.goto("/report/new")
    phone.select_option("#category", "graffiti")
    phone.locator("#manual-position summary").click()
    phone.fill("#lat", "36.1699")
    phone.fill("#lon", "-115.1398")  # Las Vegas
    phone.locator("#lon").dispatch_event("change")
    expect(phone.locator("#location-status")).to_contain_text("outside the area we cover")
    note = phone.locator("#coverage-note")
    expect(note).to_be_visible()
    expect(note).to_contain_text("Bureau of Street Services")
    assert phone.input_value("#category") == "graffiti"
    screenshot(phone, "form-outside-390")
    note.get_by_role("link", name="See the map of areas").click()
    expect(phone.locator("#show-areas")).to_be_checked()


def test_the_form_with_suggestions_open_passes_axe(phone):
    phone.goto("/report/new")
    phone.locator("#place-query").press_sequentially("977 N Hill", delay=40)
    expect(suggestions(phone).first).to_be_visible()
    assert_accessible(phone)


def test_the_form_on_a_laptop(browser, demo_server):
    page = browser.new_page(viewport={"width": 1366, "height": 768}, base_url=demo_server.url)
    page.route("**/*", only_our_hosts())
    page.goto("/report/new")
    page.locator("#place-query").press_sequentially("977 N Hill", delay=40)
    expect(suggestions(page).first).to_be_visible()
    screenshot(page, "form-suggestions-1366")
    suggestions(page).first.click()
    expect(page.locator("#location-status")).to_contain_text(HILL_TEXT)
    screenshot(page, "form-pin-1366")
    page.close()
