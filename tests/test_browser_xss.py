"""XSS payloads in every text field, seen in a real browser wherever they are shown."""

import re

import pytest

from tests.live import log_in, submit_report

pytestmark = pytest.mark.browser
PAYLOADS = ['<img src=x onerror=alert("d")>', '"><script>alert("n")</script>',
            "<svg onload=alert(1)>"]


@pytest.fixture
def page(browser, demo_server):
    """A page on the demo server that records dialogs and script errors; nothing else loads."""
    context = browser.new_context(base_url=demo_server.url)
    context.route(re.compile(r"^https?://(?!127\.0\.0\.1)"), lambda route: route.abort())
    page = context.new_page()
    page.dialogs, page.errors = [], []
    page.on("dialog", lambda dialog: (page.dialogs.append(dialog.message), dialog.dismiss()))
    page.on("pageerror", lambda error: page.errors.append(str(error)))
    yield page
    context.close()


def test_payloads_show_as_text_and_never_run(page, demo_dispatcher):
    report_url = submit_report(page, lon="-118.2437", lat="34.0522", category="streetlight",
                               description=" ".join(PAYLOADS), name=PAYLOADS[1],
                               show_name="yes")
    report_id = report_url.rsplit("/", 1)[1]

    page.goto(report_url)
    assert PAYLOADS[0] in page.text_content(".description")
    assert PAYLOADS[1] in page.text_content(".facts")
    page.goto("/reports?category=streetlight")
    assert PAYLOADS[0] in page.text_content(".report-list")
    feed = page.goto("/reports.atom?category=streetlight")
    assert "&lt;img src=x onerror" in feed.text()

    page.goto("/login")
    log_in(page, *demo_dispatcher)
    page.goto("/dispatch?status=all&category=streetlight")
    assert PAYLOADS[0] in page.get_attribute("table.queue td.col-address", "title")
    page.goto(f"/dispatch/reports/{report_id}")
    assert PAYLOADS[2] in page.text_content(".description")
    assert PAYLOADS[1] in page.text_content(".facts")
    page.select_option("#new-status", "acknowledged")
    page.fill("#public-note", PAYLOADS[0])
    page.fill("#internal-note", PAYLOADS[2])
    page.get_by_role("button", name="Save", exact=True).click()
    page.wait_for_selector("text=Status updated.")
    assert PAYLOADS[2] in page.text_content(".history")
    page.goto(report_url)
    assert PAYLOADS[0] in page.text_content(".history")

    assert page.locator("img[src='x']").count() == 0
    assert page.dialogs == [] and page.errors == []


def test_resident_updates_and_reopen_requests_show_as_text(page, demo_dispatcher):
    report_url = submit_report(page, lon="-118.2437", lat="34.0522", category="streetlight",
                               description="Lamp out")
    report_id = report_url.rsplit("/", 1)[1]
    page.goto(report_url)
    page.goto(page.get_attribute("a.private-link", "href"))
    page.fill("#update-text", PAYLOADS[0])
    page.get_by_role("button", name="Publish update").click()
    page.fill("#fixed-note", PAYLOADS[2])
    page.get_by_role("button", name="Mark as fixed").click()
    page.get_by_role("button", name="Yes, it is fixed").click()
    page.goto(report_url)
    page.fill("#reopen-text", PAYLOADS[1])
    page.get_by_role("button", name="Ask to reopen").click()
    page.wait_for_selector("text=the service will look at it again")
    updates = page.text_content(".updates")
    assert PAYLOADS[0] in updates and PAYLOADS[1] in updates
    assert PAYLOADS[2] in page.text_content(".history")

    page.goto("/login")
    log_in(page, *demo_dispatcher)
    page.goto(f"/dispatch/reports/{report_id}")
    console = page.text_content("main")
    assert all(payload in console for payload in PAYLOADS)

    assert page.locator("img[src='x']").count() == 0
    assert page.dialogs == [] and page.errors == []
