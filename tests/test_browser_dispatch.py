"""A dispatcher works a report in a real Chromium, and the public sees the result."""

import re
from urllib.parse import urlsplit

import pytest

from tests.live import log_in, submit_report

pytestmark = pytest.mark.browser


def test_dispatcher_sets_in_progress_and_public_sees_it(browser, demo_server, demo_dispatcher):
    context = browser.new_context(viewport={"width": 1280, "height": 900},
                                  base_url=demo_server.url)
    context.route(re.compile(r"^https?://(?!127\.0\.0\.1)"), lambda route: route.abort())
    page = context.new_page()
    email, password = demo_dispatcher

    public_url = submit_report(page, lon="-118.2428", lat="34.0537", category="streetlight",
                               description="Lamp out at the corner")
    report_url = public_url.replace("/reports/", "/dispatch/reports/")
    page.goto("/dispatch")
    assert "/login" in page.url
    log_in(page, email, password)
    page.wait_for_url(re.compile(r"/dispatch$"))
    page.locator(f"table.queue a[href='{urlsplit(report_url).path}']").click()
    page.wait_for_url(re.compile(re.escape(report_url) + "$"))

    page.select_option("#new-status", "in_progress")
    page.fill("#public-note", "A crew will replace the lamp this week.")
    page.fill("#internal-note", "Ladder truck 4.")
    page.get_by_role("button", name="Save", exact=True).click()
    page.wait_for_selector("text=Status updated.")
    assert page.text_content("#staff-status").strip() == "In progress"

    page.get_by_role("button", name="Log out").click()
    page.goto(public_url)
    assert page.text_content("#report-status").strip() == "In progress"
    history = page.text_content(".history")
    assert "A crew will replace the lamp this week." in history
    assert "Ladder truck" not in page.content()
    page.goto("/dispatch")
    assert "/login" in page.url
    context.close()
