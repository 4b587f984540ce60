"""The phone form in a real Chromium: photos shrunk and uploaded as chosen, every problem
shown at once with nothing lost, and one report per tap."""

import re

import pytest
from PIL import Image
from playwright.sync_api import expect

from app.web.db import get_db
from tests.factories import gps_exif, jpeg_bytes
from tests.test_browser_report import phone as phone_page
from tests.test_browser_report import start_report_at

pytestmark = pytest.mark.browser
phone = phone_page  # the phone page fixture of the report tests (390x844, touch)


def count(server, table):
    with server.app.app_context():
        return get_db().execute(f"SELECT count(*) FROM [{table}]").fetchone()[0]


def photo_files(tmp_path, *sizes):
    paths = []
    for number, size in enumerate(sizes, start=1):
        path = tmp_path / f"photo{number}.jpg"
        path.write_bytes(jpeg_bytes(size=size, color=(40 * number, 90, 160)))
        paths.append(str(path))
    return paths


def add_photos(page, paths):
    page.set_input_files("#photos", paths)
    staged = page.locator("#photo-previews input[name=staged_photo]")
    expect(staged).to_have_count(len(paths), timeout=20000)
    expect(page.locator("#photo-status")).to_have_text("Photo added.")


def test_an_error_then_a_fix_keeps_both_photos(phone, demo_server, tmp_path):
    reports_before = count(demo_server, "reports")
    phone.goto("/report/new")
    add_photos(phone, photo_files(tmp_path, (1200, 900), (900, 1200)))
    phone.fill("#description", "Streetlight out at the corner, dark all night.")
    phone.fill("#email", "ana@gmail")
    phone.get_by_role("button", name="Send report").click()

    summary = phone.locator("#error-summary")
    expect(summary).to_be_focused()
    expect(summary.locator("li")).to_have_count(3)
    expect(summary).to_contain_text("Place the pin on the map")
    expect(summary).to_contain_text("Choose what kind of problem this is.")
    expect(phone.locator("#email-error")).to_contain_text("not a valid e-mail address")
    expect(phone.locator("#email")).to_have_attribute("aria-invalid", "true")
    assert "email-error" in phone.get_attribute("#email", "aria-describedby")
    expect(phone.locator("#category")).to_have_attribute("aria-invalid", "true")
    expect(phone.locator("#description")).not_to_have_attribute("aria-invalid", "true")
    expect(phone.locator("#description")).to_have_value(
        "Streetlight out at the corner, dark all night.")
    thumbnails = phone.locator("#photo-previews img")
    expect(thumbnails).to_have_count(2)
    for index in range(2):
        assert phone.evaluate("img => img.complete && img.naturalWidth > 0",
                              thumbnails.nth(index).element_handle())
    assert count(demo_server, "reports") == reports_before

    summary.get_by_role("link", name=re.compile("not a valid e-mail")).click()
    expect(phone.locator("#email")).to_be_focused()
    phone.fill("#email", "ana@example.org")
    start_report_at_kept(phone, "34.0537", "-118.2428", "streetlight")
    phone.get_by_role("button", name="Send report").click()
    phone.wait_for_url(re.compile(r"/reports/\d+"))
    expect(phone.locator(".photos img")).to_have_count(2)
    assert count(demo_server, "reports") == reports_before + 1


def start_report_at_kept(page, lat, lon, category):
    """Type the position into the form already on screen (it keeps everything else)."""
    if not page.locator("#manual-position").evaluate("details => details.open"):
        page.click("#manual-position summary")
    page.fill("#lat", lat)
    page.fill("#lon", lon)
    page.locator("#lon").dispatch_event("change")
    expect(page.locator("#location-status")).to_contain_text("handled here")
    page.select_option("#category", category)


def test_the_map_keeps_its_pin_and_zoom_after_a_refusal(phone):
    start_report_at(phone, "34.0537", "-118.2428", "pothole")
    name = phone.get_attribute("#report-form", "data-map")
    phone.evaluate(f"window['{name}'].setView([34.0537, -118.2428], 18, {{animate: false}})")
    phone.get_by_role("button", name="Send report").click()  # no description
    expect(phone.locator("#error-summary")).to_be_focused()
    assert phone.input_value("#lat") == "34.053700"
    name = phone.get_attribute("#report-form", "data-map")
    assert phone.evaluate(f"window['{name}'].getZoom()") == 18
    expect(phone.locator("#category")).to_have_value("pothole")


def test_two_taps_on_send_make_one_report(phone, demo_server):
    before = count(demo_server, "reports")
    start_report_at(phone, "34.0540", "-118.2440", "pothole")
    phone.fill("#description", "Pothole by the crossing, two taps on Send.")
    sent = dict(phone.evaluate("""() => Array.from(
        new FormData(document.getElementById('report-form')), ([k, v]) => [k, String(v)])"""))
    phone.evaluate("""() => {
        const send = document.getElementById('send-report');
        send.click();
        send.click();
    }""")
    phone.wait_for_url(re.compile(r"/reports/\d+"))
    first = phone.url
    assert count(demo_server, "reports") == before + 1

    # The same form reaching the server again (its first answer lost on a weak connection):
    again = phone.request.post("/report/new", multipart=sent, max_redirects=0)
    assert again.status == 303 and first.endswith(again.headers["location"])
    assert count(demo_server, "reports") == before + 1


def test_send_is_disabled_while_sending(phone):
    start_report_at(phone, "34.0541", "-118.2441", "pothole")
    phone.fill("#description", "Pothole, slow connection.")
    phone.evaluate("""() => document.getElementById('report-form').addEventListener(
        'submit', () => sessionStorage.setItem('while-sending', JSON.stringify([
            document.getElementById('send-report').disabled,
            document.getElementById('send-status').textContent])))""")
    phone.get_by_role("button", name="Send report").click()
    phone.wait_for_url(re.compile(r"/reports/\d+"))
    assert phone.evaluate("() => JSON.parse(sessionStorage.getItem('while-sending'))") == [
        True, "Sending your report…"]


def test_a_big_photo_is_shrunk_on_the_phone_and_its_gps_proposes_the_pin(phone, tmp_path):
    path = tmp_path / "big.jpg"
    Image.effect_noise((4000, 3000), 60).convert("RGB").save(
        path, "JPEG", quality=95, exif=gps_exif(-118.2430, 34.0540))
    uploads = []
    phone.on("request", lambda request: uploads.append(len(request.post_data_buffer or b""))
             if request.url.endswith("/api/photos") and request.method == "POST" else None)
    phone.goto("/report/new")
    add_photos(phone, [str(path)])
    assert path.stat().st_size > 3_000_000
    assert len(uploads) == 1 and uploads[0] <= 600 * 1024
    assert float(phone.input_value("#lon")) == pytest.approx(-118.2430, abs=1e-4)
    assert "where your photo was taken" in phone.text_content("#location-status")


def test_a_photo_can_be_removed_and_a_bad_file_is_explained(phone, demo_server, tmp_path):
    phone.goto("/report/new")
    add_photos(phone, photo_files(tmp_path, (800, 600)))
    staged = count(demo_server, "staged_photos")
    phone.get_by_role("button", name="Remove photo 1").click()
    expect(phone.locator("#photo-previews li")).to_have_count(0)
    expect(phone.locator("#photo-status")).to_have_text("Photo removed.")
    expect(phone.locator("#photos")).to_be_focused()
    phone.wait_for_function("() => true")
    bad = tmp_path / "notes.jpg"
    bad.write_bytes(b"<html><script>alert(1)</script></html>")
    phone.set_input_files("#photos", str(bad))
    expect(phone.locator("#photo-previews li .field-error")).to_contain_text(
        "not an image we accept")
    assert count(demo_server, "staged_photos") == staged - 1


def staged_sizes(server):
    """{id: (width, height)} of the photos staged so far."""
    with server.app.app_context():
        return {row[0]: tuple(row[1:]) for row in get_db().execute(
            "SELECT id, width, height FROM staged_photos")}


def added_size(server, before):
    """(width, height) of the one photo staged since ``before`` (``staged_sizes``)."""
    [size] = [size for photo_id, size in staged_sizes(server).items() if photo_id not in before]
    return size


def test_a_turned_photo_is_shrunk_upright(phone, demo_server, tmp_path):
    """A camera held upright writes landscape pixels and orientation 6: the phone turns them
    while shrinking (the shrunk copy has no EXIF left to say so)."""
    path = tmp_path / "upright.jpg"
    Image.effect_noise((3000, 2000), 40).convert("RGB").save(
        path, "JPEG", quality=95, exif=gps_exif(-118.2430, 34.0540, orientation=6))
    phone.goto("/report/new")
    before = staged_sizes(demo_server)
    add_photos(phone, [str(path)])
    width, height = added_size(demo_server, before)
    assert height > width and max(width, height) <= 2048


def test_a_heic_the_browser_cannot_decode_is_sent_as_is(phone, demo_server, tmp_path):
    import pillow_heif

    pillow_heif.register_heif_opener()
    path = tmp_path / "photo.heic"
    Image.new("RGB", (1200, 900), (30, 120, 60)).save(path, "HEIF", quality=80)
    phone.goto("/report/new")
    decodable = phone.evaluate("""bytes => createImageBitmap(new Blob([new Uint8Array(bytes)]))
        .then(() => true, () => false)""", list(path.read_bytes()))
    assert not decodable  # so the phone cannot shrink it: the file goes as it is
    before = staged_sizes(demo_server)
    add_photos(phone, [str(path)])
    assert added_size(demo_server, before) == (1200, 900)  # the server decoded the HEIC
