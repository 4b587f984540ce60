"""Installable, and usable offline, in a real Chromium: the service worker keeps the app
shell and nothing personal; offline, a report is saved on the phone with its photo, can be
reviewed and deleted, and is sent exactly once when the connection returns."""

import io
import json
import re

import pytest
from PIL import Image
from playwright.sync_api import expect

from app.storage import row_counts
from app.web.db import get_db
from tests.axe import assert_accessible
from tests.factories import jpeg_bytes
from tests.live import only_our_hosts, submit_report

pytestmark = pytest.mark.browser
SPOT = ("34.0375", "-118.2660")  # lat, lon: a street near the Convention Center
SAVED = "Saved on this phone: it will be sent when you are online."


@pytest.fixture
def phone(browser, demo_server):
    context = browser.new_context(viewport={"width": 390, "height": 844}, is_mobile=True,
                                  has_touch=True, base_url=demo_server.url,
                                  service_workers="allow")
    page = context.new_page()
    page.route("**/*", only_our_hosts())
    page.errors = []
    page.on("pageerror", lambda error: page.errors.append(error))
    yield page
    assert [error.stack for error in page.errors if not offline_fetch_elsewhere(error)] == []
    context.close()


def offline_fetch_elsewhere(error):
    """A form helper's fetch (nearby reports, questions, places) failing offline: it leaves
    its own line empty; only our drafts' code must never fail."""
    return error.message == "Failed to fetch" and "/js/drafts." not in error.stack


def counts(server):
    with server.app.app_context():
        return row_counts(get_db())


def reports_described(server, text):
    with server.app.app_context():
        rows = get_db().execute(
            "SELECT r.id, (SELECT count(*) FROM photos p WHERE p.report_id = r.id) "
            "FROM reports r WHERE description = ?", [text]).fetchall()
    return [tuple(row) for row in rows]


def installed(page):
    """Open the form and wait until the service worker controls it, its shell kept."""
    page.goto("/report/new")
    page.evaluate("navigator.serviceWorker.ready.then(() => true)")
    page.reload()
    expect(page.locator("#report-form")).to_be_visible()
    assert page.evaluate("!!navigator.serviceWorker.controller")


def fill_offline_report(page, description, photo=None):
    page.click("#manual-position summary")
    page.fill("#lat", SPOT[0])
    page.fill("#lon", SPOT[1])
    page.select_option("#category", "graffiti")
    page.fill("#description", description)
    if photo:
        page.set_input_files("#photos", str(photo))
        expect(page.locator("#photo-previews li")).to_have_count(1)


def cached_paths(page):
    return page.evaluate("""async () => {
        const paths = [];
        for (const name of await caches.keys()) {
            for (const request of await (await caches.open(name)).keys()) {
                paths.push(new URL(request.url).pathname);
            }
        }
        return paths;
    }""")


def test_offline_report_is_saved_then_sent_once_with_its_photo(phone, demo_server, tmp_path):
    photo = tmp_path / "tags.jpg"
    photo.write_bytes(jpeg_bytes(size=(1600, 1200)))
    description = "Fresh tags on the bridge, reported from the tunnel"
    second = "A streetlight out by the tunnel exit, second draft"
    installed(phone)
    before = counts(demo_server)

    phone.context.set_offline(True)
    fill_offline_report(phone, description, photo)
    expect(phone.locator("#photo-status")).to_contain_text("kept on this phone")
    phone.get_by_role("button", name="Send report").click()
    expect(phone.locator("#drafts-status")).to_have_text(SAVED)
    draft = phone.locator("#drafts-list li")
    expect(draft).to_have_count(1)
    expect(draft).to_contain_text(description)
    expect(draft).to_contain_text("photos: 1")
    expect(phone.locator("#description")).to_have_value("")  # ready for the next one
    # A second draft from the same kept page is a report of its own (a key of its own).
    fill_offline_report(phone, second)
    phone.get_by_role("button", name="Send report").click()
    expect(draft).to_have_count(2)
    assert counts(demo_server) == before

    # Offline, the form still opens from the worker's cache, with the drafts.
    phone.goto("/report/new")
    expect(draft).to_have_count(2)
    phone.context.set_offline(False)
    sent = phone.locator("#drafts-list li a")
    expect(sent).to_have_count(2)
    [(report_id, photos)] = reports_described(demo_server, description)
    assert photos == 1
    [(_, no_photos)] = reports_described(demo_server, second)
    assert no_photos == 0
    expect(sent.first).to_have_text(re.compile(r"Sent: report #\d+"))
    assert f"Sent: report #{report_id}" in sent.all_inner_texts()

    phone.reload()  # nothing left to send: no report twice
    expect(phone.locator("#drafts")).to_be_hidden()
    assert len(reports_described(demo_server, description)) == 1
    assert len(reports_described(demo_server, second)) == 1
    assert counts(demo_server)["reports"] == before["reports"] + 2


def test_a_draft_can_be_reviewed_and_deleted(phone, demo_server):
    description = "Overflowing bin, draft to delete"
    installed(phone)
    phone.context.set_offline(True)
    fill_offline_report(phone, description)
    phone.get_by_role("button", name="Send report").click()
    expect(phone.locator("#drafts-list li")).to_contain_text(description)
    phone.get_by_role("button", name="Delete this draft").click()
    expect(phone.locator("#drafts-status")).to_have_text("Draft deleted.")
    expect(phone.locator("#drafts-list li")).to_have_count(0)
    phone.context.set_offline(False)
    phone.reload()
    assert reports_described(demo_server, description) == []


def test_an_incomplete_draft_is_not_saved(phone):
    installed(phone)
    phone.context.set_offline(True)
    phone.fill("#description", "No pin, no kind")
    phone.get_by_role("button", name="Send report").click()
    expect(phone.locator("#drafts-status")).to_contain_text("place the pin")
    expect(phone.locator("#drafts-list li")).to_have_count(0)


def test_offline_pages_open_from_the_kept_shell(phone):
    installed(phone)
    phone.context.set_offline(True)
    for path, heading in (("/report/new", "Report a problem"), ("/map", "Map of reports"),
                          ("/", None)):
        phone.goto(path)
        if heading:
            expect(phone.locator("h1")).to_have_text(heading)
    phone.goto("/reports/1")  # never kept: the form says what can be done offline
    expect(phone.locator("h1")).to_have_text("Report a problem")


def test_the_worker_keeps_the_shell_and_nothing_personal(phone, demo_server, demo_dispatcher):
    installed(phone)
    report_url = submit_report(phone, lon=SPOT[1], lat=SPOT[0], category="graffiti",
                               description="Tags, to check what the worker keeps")
    phone.goto(report_url)
    private = phone.get_attribute(".private-link", "href")
    for path in (private, "/api/categories", "/login", "/reports.atom", "/map", "/reports"):
        phone.goto(path)
    phone.evaluate("fetch('/api/reports.geojson?bbox=-118.3,34.0,-118.2,34.1')"
                   ".then(r => r.json())")
    paths = cached_paths(phone)
    assert {"/", "/report/new", "/map"} <= set(paths)
    assert any(p.startswith("/static/js/drafts.") for p in paths)
    assert any(p.startswith("/vendor/leaflet/") for p in paths)
    kept_personal = [p for p in paths if p.startswith(("/api/", "/dispatch", "/login",
                                                       "/photos/", "/alerts/"))
                     or "/manage/" in p or p.startswith("/reports")]
    assert kept_personal == []


def test_the_workers_copy_of_a_page_leaves_the_private_link_to_its_reader(client):
    """The worker may fetch its shell just after a report is sent: that copy, kept on the
    phone, must not take (and keep) the notice with the report's private link."""
    sent = client.post("/report/new", data={"lon": "0.5", "lat": "0.5", "category": "pothole",
                                            "description": "A hole by the square"})
    assert sent.status_code == 303
    shell = client.get("/report/new", headers={"X-App-Shell": "1"}).get_data(as_text=True)
    assert "private-link" not in shell
    page = client.get(sent.headers["Location"]).get_data(as_text=True)
    assert 'class="private-link"' in page


def test_manifest_and_icons(client):
    page = client.get("/").get_data(as_text=True)
    assert '<link rel="manifest" href="/manifest.webmanifest">' in page
    answer = client.get("/manifest.webmanifest")
    assert answer.mimetype == "application/manifest+json"
    manifest = json.loads(answer.data)
    assert manifest["start_url"] == "/report/new" and manifest["display"] == "standalone"
    for icon in manifest["icons"]:
        image = Image.open(io.BytesIO(client.get(icon["src"]).data))
        assert image.format == "PNG"
        assert f"{image.width}x{image.height}" == icon["sizes"]
        # The pin is drawn in the middle: the corners, cut by a round mask, are background.
        assert image.getpixel((0, 0)) == image.getpixel((image.width - 1, 0))
        assert image.getpixel((image.width // 2, int(image.height * 0.6))) == (255, 255, 255)
    assert client.get("/icons/icon-64.png").status_code == 404


def test_the_worker_script_lists_a_shell_that_answers(client):
    answer = client.get("/sw.js")
    assert answer.mimetype == "text/javascript"
    assert "no-cache" in answer.headers["Cache-Control"]
    script = answer.get_data(as_text=True)
    shell = json.loads(script.split("const SHELL = ", 1)[1].split(";\n", 1)[0])
    assert "/report/new" in shell and "/map" in shell
    for url in shell:
        assert client.get(url).status_code == 200, url
    assert not [url for url in shell if url.startswith(("/api/", "/dispatch", "/login"))]


def test_a_draft_the_city_refuses_stays_with_the_reason(phone, demo_server):
    description = "Pothole far out at sea, kept offline"
    installed(phone)
    before = counts(demo_server)
    phone.context.set_offline(True)
    phone.click("#manual-position summary")
    phone.fill("#lat", "33.2000")  # the Pacific: no service takes it
    phone.fill("#lon", "-119.5000")
    phone.select_option("#category", "graffiti")
    phone.fill("#description", description)
    phone.get_by_role("button", name="Send report").click()
    draft = phone.locator("#drafts-list li")
    expect(draft).to_have_count(1)
    phone.context.set_offline(False)
    expect(draft).to_contain_text("Not sent:")
    expect(draft.get_by_role("button", name="Delete this draft")).to_be_visible()
    expect(phone.locator("#drafts-status")).to_have_text(
        "Not sent: This location is outside the area we cover.")
    assert_accessible(phone)
    assert counts(demo_server)["reports"] == before["reports"]
    phone.reload()  # a refused draft is not sent again and again
    expect(draft).to_contain_text("Not sent:")
    assert counts(demo_server)["reports"] == before["reports"]
