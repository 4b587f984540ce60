"""A dispatcher's day in a real Chromium: the queue at 1366x768 (at least 12 rows in view,
select all, bulk acknowledge, assign, a template sent, a duplicate marked from the staff map,
keyboard only) and on a 390 px phone (cards, "Nearest to me")."""

import re
from pathlib import Path

import pytest

from app import create_app
from app.demo import load_demo
from app.dispatch.accounts import create_staff_user
from app.storage import upgrade
from app.web.db import get_db
from tests.axe import assert_accessible
from tests.live import TILE_HOST, LiveServer, log_in, only_our_hosts, submit_report

pytestmark = pytest.mark.browser
DISPATCHER = ("bins@demo.example", "bulky items by the kerb")
ADMIN = ("chief@demo.example", "the whole city at once")
SHOTS = Path("/tmp/shots/console")
#: Two abandoned-appliance reports 37 m apart downtown.
CORNER = ("-118.2428", "34.0537")
NEXT_DOOR = ("-118.2424", "34.0537")


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    """The demo city with 70 of its sanitation reports open again, a template and a target."""
    folder = tmp_path_factory.mktemp("console")
    app = create_app({
        "SECRET_KEY": "test", "DATABASE": str(folder / "demo.sqlite3"),
        "PHOTO_STORE": str(folder / "photos"), "RATE_LIMITS_ON": False,
        "RATE_LIMIT_DATABASE": str(folder / "rate-limits.sqlite3"),
        "TILE_URL": f"https://{TILE_HOST}/{{z}}/{{x}}/{{y}}.png",
    })
    with app.app_context():
        db = get_db()
        upgrade(db)
        load_demo(db)
        create_staff_user(db, *DISPATCHER, "dispatcher", ["sanitation"])
        create_staff_user(db, *ADMIN, "admin", [])
        db.execute("UPDATE reports SET status = 'new' WHERE id IN (SELECT r.id FROM reports r "
                   "JOIN services s ON s.id = r.service_id WHERE s.code = 'sanitation' "
                   "ORDER BY r.id DESC LIMIT 70)")
        db.conn.commit()
    runner = app.test_cli_runner()
    for args in (["targets", "set", "appliances", "--acknowledge-hours", "24"],
                 ["templates", "add", "sanitation", "--status", "in_progress", "--title",
                  "Crew booked", "A crew collects report {number} ({category}) at {address}."]):
        assert runner.invoke(args=args).exit_code == 0
    with LiveServer(app) as live:
        yield live


def new_page(browser, server, width, height, **options):
    context = browser.new_context(viewport={"width": width, "height": height},
                                  base_url=server.url, **options)
    context.route(re.compile(".*"), only_our_hosts())
    page = context.new_page()
    page.errors = []
    page.on("pageerror", lambda error: page.errors.append(str(error)))
    return page


def logged_in(page, who=DISPATCHER):
    page.goto("/login")
    log_in(page, *who)
    page.wait_for_url(re.compile(r"/dispatch$"))
    return page


def rows_in_view(page):
    """Queue rows wholly inside the viewport."""
    height = page.viewport_size["height"]
    return sum(1 for box in (row.bounding_box() for row in
                             page.locator("tbody tr[data-url]").all())
               if box and box["y"] >= 0 and box["y"] + box["height"] <= height)


def report_number(url):
    return int(url.rstrip("/").rsplit("/", 1)[1])


def test_a_dispatchers_day_at_1366x768(browser, server):
    dumped = submit_report(new_page(browser, server, 1366, 768), lon=CORNER[0],
                           lat=CORNER[1], category="appliances",
                           description="Mattress on the corner")
    again = submit_report(new_page(browser, server, 1366, 768), lon=NEXT_DOOR[0],
                          lat=NEXT_DOOR[1], category="appliances",
                          description="A mattress dumped by the shop")
    page = logged_in(new_page(browser, server, 1366, 768))
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / "browser-queue-1366x768.png"))
    assert page.locator("form.filter-bar").is_visible()
    assert rows_in_view(page) >= 12
    box = page.locator("#select-all").bounding_box()
    assert box["width"] >= 24 and box["height"] >= 24
    assert page.locator("#bulk-bar").is_hidden(), "the bar comes with a selection"

    page.check("#select-all")
    assert page.locator("#selected-count").text_content() == "50 reports selected"
    assert page.locator("#bulk-bar").is_visible()
    page.select_option("#bulk-status", "acknowledged")
    page.get_by_role("button", name="Apply to selected").click()
    page.wait_for_selector("text=50 reports updated.")
    assert "Acknowledged: 50" in page.text_content(".status-tabs")

    page.goto("/dispatch?status=acknowledged&sort=number")
    first, second = (page.locator("tbody tr[data-url]").nth(n) for n in (0, 1))
    first.locator("input[name=report]").check()
    second.locator("input[name=report]").check()
    page.select_option("#bulk-assignee", DISPATCHER[0])
    page.get_by_role("button", name="Apply to selected").click()
    page.wait_for_selector("text=2 reports updated.")
    page.goto("/dispatch?quick=mine")
    assert page.locator("tbody tr[data-url]").count() == 2

    page.goto(f"/dispatch/reports/{report_number(dumped)}")
    page.select_option("#response-template", label="Crew booked (In progress)")
    note = page.input_value("#public-note")
    assert note == (f"A crew collects report {report_number(dumped)} (Abandoned appliance) at "
                    f"{page.text_content('#report-address')}.")
    assert page.input_value("#new-status") == "in_progress"
    page.fill("#public-note", note + " Thank you.")
    page.get_by_role("button", name="Save", exact=True).click()
    page.wait_for_selector("text=Status updated.")

    page.goto(f"/dispatch/reports/{report_number(again)}")
    page.screenshot(path=str(SHOTS / "browser-report-1366x768.png"), full_page=True)
    page.locator(".leaflet-overlay-pane path.leaflet-interactive[fill='#a4161a']").click()
    page.locator(f".leaflet-popup a[href='#nearby-{report_number(dumped)}']").click()
    page.get_by_role("button", name=f"Mark this one as a duplicate of "
                                    f"#{report_number(dumped)}").click()
    page.wait_for_selector("text=Status updated.")
    assert page.text_content("#staff-status") == "Duplicate"

    page.goto(dumped)
    assert page.text_content("#report-status").strip() == "In progress"
    assert note + " Thank you." in page.text_content(".history")
    assert f"#{report_number(again)}" in page.text_content(".facts")
    assert page.errors == []


def test_keyboard_only_j_x_and_a_bulk_acknowledge(browser, server):
    page = logged_in(new_page(browser, server, 1366, 768))
    page.goto("/dispatch?status=new&sort=number")
    before = page.text_content(".status-tabs")
    first = page.locator("tbody tr[data-url]").first
    number = report_number(first.get_attribute("data-url"))
    page.keyboard.press("?")
    assert page.locator("#shortcuts").is_visible()
    page.keyboard.press("Escape")
    page.keyboard.press("j")
    assert "current" in first.get_attribute("class")
    page.keyboard.press("x")
    assert first.locator("input[name=report]").is_checked()
    page.keyboard.press("b")
    page.keyboard.type("Ack")
    assert page.input_value("#bulk-status") == "acknowledged"
    page.keyboard.press("Tab")
    page.keyboard.press("Enter")
    page.wait_for_selector("text=1 report updated.")
    assert page.text_content(".status-tabs") != before
    page.goto(f"/dispatch/reports/{number}")
    assert page.text_content("#staff-status") == "Acknowledged"
    page.goto("/dispatch?status=acknowledged&sort=number&dir=desc")
    page.keyboard.press("j")
    page.keyboard.press("j")
    page.keyboard.press("k")
    target = page.locator("tbody tr[data-url]").first.get_attribute("data-url")
    page.keyboard.press("o")
    page.wait_for_url(re.compile(re.escape(target) + "$"))
    assert page.errors == []


def test_on_a_phone_the_queue_is_cards_and_nearest_to_me_sorts_by_distance(browser, server):
    page = new_page(browser, server, 390, 844, geolocation={"latitude": 34.0537,
                                                            "longitude": -118.2430},
                    permissions=["geolocation"], is_mobile=True, has_touch=True)
    logged_in(page)
    page.goto("/dispatch?status=all")
    first = page.locator("tbody tr[data-url]").first
    assert first.evaluate("row => getComputedStyle(row).display") == "flex"
    assert first.bounding_box()["width"] <= 390
    page.get_by_role("button", name="Nearest to me").click()
    page.wait_for_url(re.compile(r"near=-118\.24300\d*%2C34\.0537"))
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / "browser-queue-nearest-390x844.png"))
    distances = [int(text.replace(",", "").split()[0]) for text in
                 page.locator("tbody .distance").all_text_contents()]
    assert len(distances) >= 10 and distances == sorted(distances)
    assert distances[0] <= 60, "the corner report is nearest"
    assert page.errors == []


@pytest.mark.parametrize("size", [(1366, 768), (390, 844)], ids=["desktop", "phone"])
def test_the_console_pages_pass_axe(browser, server, size):
    page = logged_in(new_page(browser, server, *size))
    first = page.locator("tbody tr[data-url]").first.get_attribute("data-url")
    for path in ("/dispatch", "/dispatch?quick=overdue&sort=due", first):
        page.goto(path)
        assert_accessible(page)
    page.goto("/dispatch")
    page.check("#select-all")
    assert_accessible(page)
    page.keyboard.press("?")
    assert_accessible(page)


@pytest.mark.parametrize("size", [(1366, 768), (390, 844)], ids=["desktop", "phone"])
def test_the_templates_admin_page_passes_axe(browser, server, size):
    page = logged_in(new_page(browser, server, *size), ADMIN)
    page.goto("/dispatch/templates")
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"browser-templates-{size[0]}x{size[1]}.png"),
                    full_page=True)
    assert_accessible(page)
    page.get_by_role("button", name="Save the template").click()
    assert_accessible(page)
