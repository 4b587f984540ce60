"""The public map in a real Chromium: pins, popups, escaping, and no third-party requests."""

import re

import pytest
from playwright.sync_api import expect

from tests.live import TILE_HOST, only_our_hosts, submit_report

pytestmark = pytest.mark.browser
XSS = "<img src=x onerror=alert(1)>"
SPOT = (-118.2519, 34.0441)  # downtown Los Angeles


@pytest.fixture
def desktop(browser, demo_server):
    context = browser.new_context(viewport={"width": 1280, "height": 800},
                                  base_url=demo_server.url)
    page = context.new_page()
    page.hosts, page.errors, page.dialogs = [], [], []

    page.route("**/*", only_our_hosts(page.hosts))
    page.on("console", lambda m: page.errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: page.errors.append(str(e)))
    page.on("dialog", lambda d: (page.dialogs.append(d.message), d.dismiss()))
    yield page
    context.close()


def status_line(page):
    """The map's status line; expect() polls the DOM, so no eval that the CSP would block."""
    return expect(page.locator("#map-status"))


def test_map_shows_reports_and_escaped_popup_links_to_report(desktop):
    report_url = submit_report(desktop, lon=str(SPOT[0]), lat=str(SPOT[1]), category="graffiti",
                               description=XSS)
    desktop.goto("/map")
    status_line(desktop).to_contain_text("in this view")
    assert desktop.locator(".marker-cluster, .report-pin-button").count() > 0

    name = desktop.get_attribute("#public-map", "data-map")
    desktop.evaluate(f"window['{name}'].setView([{SPOT[1]}, {SPOT[0]}], 19)")
    status_line(desktop).to_have_text("1 report in this view.")
    desktop.locator(".report-pin-button").first.click()
    popup = desktop.locator(".report-popup")
    popup.wait_for()
    assert XSS in popup.inner_text()
    assert popup.locator("img[src='x']").count() == 0

    # The map loads each new view: the pin of a report still in it is kept, so the open
    # popup survives (a popup that pans the map to fit used to vanish a moment after it
    # opened, when every pin was redrawn).
    desktop.evaluate("document.querySelector('.report-pin-button').dataset.before = 1")
    with desktop.expect_response(re.compile(r"/api/reports\.geojson")):
        desktop.evaluate(f"window['{name}'].panBy([3, 3], {{animate: false}})")
    expect(desktop.locator(".report-pin-button[data-before]")).to_have_count(1)
    expect(desktop.locator(".report-pin-button")).to_have_count(1)
    expect(popup).to_be_visible()
    assert XSS in popup.inner_text()
    popup.get_by_role("link").click()
    desktop.wait_for_url(re.compile(re.escape(report_url) + "$"))
    assert XSS in desktop.text_content(".description")

    assert desktop.dialogs == []
    assert desktop.errors == []
    assert set(desktop.hosts) <= {"127.0.0.1", TILE_HOST}
    assert TILE_HOST in desktop.hosts


def test_filters_are_in_the_url_and_reload_the_map(desktop):
    desktop.goto("/map?category=streetlight")
    status_line(desktop).to_contain_text("in this view")
    streetlights = desktop.text_content("#map-status")
    desktop.click("#map-panel summary")
    desktop.select_option("#f-category", "graffiti")
    desktop.click("text=Apply filters")
    status_line(desktop).not_to_have_text(streetlights)
    assert "category=graffiti" in desktop.url
    assert "category=graffiti" in desktop.get_attribute("#csv-link", "href")
    assert desktop.errors == []
