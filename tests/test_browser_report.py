"""A resident reports a pothole from a phone, in a real Chromium."""

import io
import re
from urllib.parse import urlsplit

import pytest
from PIL import Image
from playwright.sync_api import expect

from tests.factories import gps_exif, jpeg_bytes
from tests.live import submit_report

pytestmark = pytest.mark.browser
CITY_HALL = {"latitude": 34.0537, "longitude": -118.2428}
TILE_HOST = "tiles.invalid"


@pytest.fixture
def phone(browser, demo_server):
    context = browser.new_context(
        viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True,
        geolocation=CITY_HALL, permissions=["geolocation"], base_url=demo_server.url,
    )
    page = context.new_page()
    page.hosts = []

    def record(route):
        host = urlsplit(route.request.url).hostname
        page.hosts.append(host)
        if host == "127.0.0.1":
            route.continue_()
        else:
            route.abort()

    page.route("**/*", record)
    page.script_errors = []
    page.on("pageerror", lambda error: page.script_errors.append(str(error)))
    page.on("console", lambda m: page.script_errors.append(m.text)
            if m.type == "error" and "Content Security Policy" in m.text else None)
    yield page
    assert page.script_errors == []
    context.close()


def map_name(page):
    return page.get_attribute("#report-form", "data-map")


def test_resident_reports_a_pothole_with_a_photo(phone, tmp_path):
    photo = tmp_path / "pothole.jpg"
    photo.write_bytes(jpeg_bytes(size=(1600, 1200), exif=gps_exif(-118.2430, 34.0540)))

    phone.goto("/report/new")
    phone.get_by_role("button", name="Use my location").click()
    expect(phone.locator("#location-status")).to_contain_text("handled here")
    assert phone.input_value("#lat").startswith("34.0537")
    assert phone.evaluate(f"window['{map_name(phone)}'].getZoom()") >= 16
    phone.select_option("#category", "pothole")
    phone.fill("#description", "Deep pothole in the right lane, in front of City Hall.")
    phone.set_input_files("#photos", str(photo))
    phone.get_by_role("button", name="Send report").click()

    phone.wait_for_url(re.compile(r"/reports/\d+$"))
    assert phone.text_content("#report-status").strip() == "New"
    assert phone.text_content("#report-service").strip() == "Bureau of Street Services"
    image = phone.locator(".photos img").first
    image.wait_for()
    assert phone.evaluate("img => img.complete && img.naturalWidth > 0", image.element_handle())

    full_size = phone.locator(".photos a").first.get_attribute("href")
    served = phone.request.get(full_size)
    assert served.ok
    assert served.headers["content-type"] == "image/jpeg"
    downloaded = Image.open(io.BytesIO(served.body()))
    assert not downloaded.getexif()
    assert b"Exif" not in served.body()

    assert set(phone.hosts) <= {"127.0.0.1", TILE_HOST}


def test_photo_position_is_proposed_when_no_pin(phone, tmp_path):
    photo = tmp_path / "graffiti.jpg"
    photo.write_bytes(jpeg_bytes(exif=gps_exif(-118.30, 34.10)))
    phone.goto("/report/new")
    phone.set_input_files("#photos", str(photo))
    expect(phone.locator("#lon")).not_to_have_value("")
    assert float(phone.input_value("#lon")) == pytest.approx(-118.30, abs=1e-4)
    assert float(phone.input_value("#lat")) == pytest.approx(34.10, abs=1e-4)
    assert "where your photo was taken" in phone.text_content("#location-status")


def start_report_at(page, lat, lon, category):
    """Open the form, type the position (as a resident without GPS would) and pick the
    category: the form then lists open reports nearby."""
    page.goto("/report/new")
    page.click("#manual-position summary")
    page.fill("#lat", lat)
    page.fill("#lon", lon)
    page.locator("#lon").dispatch_event("change")
    expect(page.locator("#location-status")).to_contain_text("handled here")
    page.select_option("#category", category)


def test_already_reported_nearby_and_me_too(phone):
    existing = submit_report(phone, lon="-118.2500", lat="34.0500", category="sidewalk",
                             description="Broken slab by the bus stop")
    existing_id = existing.rsplit("/", 1)[1]
    start_report_at(phone, "34.0502", "-118.2501", "sidewalk")
    nearby = phone.locator("#nearby")
    expect(nearby).to_be_visible()
    expect(nearby).to_have_attribute("aria-busy", "false")
    item = nearby.locator("li", has_text=f"#{existing_id}")
    expect(item).to_contain_text("0 me too")
    item.get_by_role("button", name="Me too").click()
    expect(nearby).to_have_attribute("aria-busy", "false")
    expect(item).to_contain_text("1 me too")
    expect(item.get_by_role("button")).to_have_text("Thank you: counted")
    phone.goto(existing)
    expect(phone.locator("#support-count")).to_contain_text("1 person")


def test_me_too_with_an_email_waits_for_the_mailbox(phone):
    existing = submit_report(phone, lon="-118.2450", lat="34.0450", category="sidewalk",
                             description="Lifted slab by the library")
    existing_id = existing.rsplit("/", 1)[1]
    start_report_at(phone, "34.0451", "-118.2450", "sidewalk")
    phone.fill("#email", "resident@example.org")
    item = phone.locator("#nearby li", has_text=f"#{existing_id}")
    expect(item).to_contain_text("0 me too")
    item.get_by_role("button", name="Me too").click()
    expect(item.get_by_role("button")).to_have_text(
        "Check your mailbox: it counts once you confirm")
    expect(item).to_contain_text("0 me too")
    phone.goto(existing)
    expect(phone.locator("#support-count")).to_contain_text("0 people")
