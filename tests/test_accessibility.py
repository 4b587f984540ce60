"""axe-core finds no WCAG 2.1 A/AA violation on any public page, on a phone and a desktop,
including the map with its panel and a popup open and the report form in its error state."""

import pytest
from playwright.sync_api import expect

from tests.axe import assert_accessible, violations
from tests.live import only_our_hosts, submit_report

pytestmark = pytest.mark.browser
PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1366, "height": 768}
SPOT = (-118.3041, 34.0193)  # a street of its own: no other test reports here
#: GET endpoints that answer no page a person reads: feeds, files, JSON, redirects, parts.
NOT_PAGES = {"static", "vendor_file", "language", "reports.photo", "reports.report_feed",
             "reports.report_history_feed", "data.catalogue_jsonld", "questions.fragment",
             "pwa.service_worker", "pwa.manifest", "pwa.icon"}
#: The pages this file checks, by endpoint; a new public page must be added here.
CHECKED = {"reports.home", "reports.public_map", "reports.report_list", "reports.show_report",
           "reports.new_report", "reports.alerts", "reports.manage_report", "auth.login",
           "reports.confirm_subscription", "reports.confirm_support",
           "reports.unsubscribe_page", "data.catalogue", "stats.city", "stats.areas",
           "stats.area", "reports.my_reports"}


@pytest.fixture(params=[PHONE, DESKTOP], ids=["phone", "desktop"])
def page(request, browser, demo_server):
    context = browser.new_context(viewport=request.param, base_url=demo_server.url)
    page = context.new_page()
    page.route("**/*", only_our_hosts())
    yield page
    context.close()


@pytest.fixture(scope="module")
def report_url(browser, demo_server):
    """A report of our own, with the private link its sender saw."""
    context = browser.new_context(base_url=demo_server.url)
    page = context.new_page()
    url = submit_report(page, lon=str(SPOT[0]), lat=str(SPOT[1]), category="graffiti",
                        description="Tags on the library wall", email="ana@example.org")
    page.goto(url)
    private = page.get_attribute(".private-link", "href")
    context.close()
    return url, private


def report_id(urls):
    return urls[0].rsplit("/", 1)[1]


def test_every_public_page_is_checked(demo_server):
    pages = {rule.endpoint for rule in demo_server.app.url_map.iter_rules()
             if "GET" in rule.methods
             and not rule.rule.startswith(("/api/", "/dispatch", "/open311"))}
    assert pages - NOT_PAGES - CHECKED == set(), "add the new page to tests/test_accessibility"


@pytest.mark.parametrize("path", ["/", "/reports", "/report/new", "/alerts", "/login",
                                  "/alerts/not-a-token/confirm", "/supports/nope/confirm",
                                  "/alerts/not-a-token/unsubscribe", "/no-such-page",
                                  "/data", "/stats", "/areas", "/reports/mine"])
def test_simple_pages(page, path):
    page.goto(path)
    assert_accessible(page)


def test_an_area_page(page):
    page.goto("/areas")
    areas = page.locator("main a[href*='/areas/']")
    if areas.count():
        areas.first.click()
        page.wait_for_load_state()
    assert_accessible(page)


def test_report_page_and_its_private_page(page, report_url):
    public, private = report_url
    page.goto(public)
    assert_accessible(page)
    page.goto(private)
    expect(page.locator("h1")).to_be_visible()
    assert_accessible(page)


def test_map_with_panel_list_and_popup_open(page, report_url):
    page.goto("/map")
    expect(page.locator("#map-status")).to_contain_text("in this view")
    assert_accessible(page)
    page.click("#map-panel summary")
    name = page.get_attribute("#public-map", "data-map")
    page.evaluate(f"window['{name}'].setView([{SPOT[1]}, {SPOT[0]}], 19)")
    page.get_by_role("button", name=f"Show report #{report_id(report_url)} on the map").click()
    expect(page.locator(".report-popup")).to_be_visible()
    expect(page.locator(".leaflet-popup")).to_have_css("opacity", "1")  # faded in
    assert_accessible(page)


def test_report_form_in_its_error_state(page):
    page.goto("/report/new")
    page.select_option("#category", "pothole")
    page.fill("#description", "A deep hole, but no pin placed")
    page.get_by_role("button", name="Send report").click()
    expect(page.locator("[role=alert]").first).to_be_visible()
    assert_accessible(page)


def test_the_check_finds_what_is_wrong(page):
    """The helper is not blind: an unlabelled field and an image without text are found."""
    page.goto("/")
    page.evaluate("document.querySelector('main').insertAdjacentHTML('beforeend',"
                  " '<img src=\"/x.png\"><input type=text>')")
    assert {v["id"] for v in violations(page)} >= {"image-alt", "label"}
