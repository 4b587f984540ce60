"""The phone form on a slow connection: a 12 MP photo report, from tapping Send to the report
page, before (the plain form: the full photo goes with it) and after (shrunk on the phone,
uploaded as soon as chosen), in one run on the same server and photo.

Run: .venv/bin/python bench/phone_bench.py [--runs N]

Chromium (Playwright, /usr/bin/chromium) at 390x844 with CDP network throttling: 750 kbit/s
up, 1.5 Mbit/s down, 150 ms latency. The photo is a 4032x3024 photo-like picture with
sensor-like noise (bench/photo_bench.py) and EXIF GPS in the demo city, a ~5 MB JPEG. The
"after" run taps Send right after choosing the photo, the worst case (a resident who types
the description first gives the upload that time). Printed per run: seconds from the tap to
the report page, and bytes uploaded with the photo (bodies of the POSTs that carry it, as
the server received them).

Other phone measurements (e.g. the first view of /map) can be added as more functions
called from ``main``, printing their own lines.
"""

import argparse
import io
import re
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from photo_bench import phone_picture  # noqa: E402
from playwright.sync_api import sync_playwright  # noqa: E402

from app import create_app  # noqa: E402
from app.demo import load_demo  # noqa: E402
from app.storage import upgrade  # noqa: E402
from app.web.db import get_db  # noqa: E402
from tests.factories import gps_exif  # noqa: E402
from tests.live import LiveServer, only_our_hosts  # noqa: E402

CHROMIUM = "/usr/bin/chromium"
PHONE = {"width": 390, "height": 844}
THROTTLE = {"offline": False, "latency": 150, "uploadThroughput": 750_000 / 8,
            "downloadThroughput": 1_500_000 / 8}
CITY_HALL = ("34.0537", "-118.2428")


def photo_file(folder):
    buffer = io.BytesIO()
    phone_picture().save(buffer, "JPEG", quality=92, exif=gps_exif(-118.2428, 34.0537))
    path = Path(folder) / "pothole.jpg"
    path.write_bytes(buffer.getvalue())
    return path


def demo_app(folder):
    app = create_app({
        "SECRET_KEY": "bench", "DATABASE": str(Path(folder) / "demo.sqlite3"),
        "PHOTO_STORE": str(Path(folder) / "photos"), "RATE_LIMITS_ON": False,
        "RATE_LIMIT_DATABASE": str(Path(folder) / "limits.sqlite3"),
        "TILE_URL": "https://tiles.invalid/{z}/{x}/{y}.png",
    })
    with app.app_context():
        upgrade(get_db())
        load_demo(get_db())
    return app


def throttled_page(browser, url, javascript):
    context = browser.new_context(viewport=PHONE, is_mobile=True, has_touch=True,
                                  base_url=url, java_script_enabled=javascript)
    page = context.new_page()
    page.route("**/*", only_our_hosts())
    cdp = context.new_cdp_session(page)
    cdp.send("Network.enable")
    cdp.send("Network.emulateNetworkConditions", THROTTLE)
    return context, page


def fill_form(page, javascript):
    page.goto("/report/new", timeout=120_000)
    if javascript:
        page.wait_for_function("() => window.reportForm !== undefined")
    page.click("#manual-position summary")
    page.fill("#lat", CITY_HALL[0])
    page.fill("#lon", CITY_HALL[1])
    page.select_option("#category", "pothole")
    page.fill("#description", "Deep pothole in the right lane, in front of City Hall.")


class UploadMeter:
    """WSGI middleware: bytes of the request bodies that can carry a photo, as received."""

    PATHS = ("/api/photos", "/report/new")

    def __init__(self, app):
        self.app, self.bytes = app, 0

    def __call__(self, environ, start_response):
        if environ["REQUEST_METHOD"] == "POST" and environ["PATH_INFO"] in self.PATHS:
            self.bytes += int(environ.get("CONTENT_LENGTH") or 0)
        return self.app(environ, start_response)


def send_report(browser, url, photo, javascript, meter):
    """Seconds from the tap on Send to the report page, and photo bytes uploaded."""
    meter.bytes = 0
    context, page = throttled_page(browser, url, javascript)
    fill_form(page, javascript)
    page.set_input_files("#photos", str(photo))
    started = time.perf_counter()
    page.get_by_role("button", name="Send report").click(no_wait_after=True)
    try:
        page.wait_for_url(re.compile(r"/reports/\d+"), timeout=240_000)
    except Exception:
        print(page.url, page.locator("main").inner_text()[:800])
        raise
    seconds = time.perf_counter() - started
    uploaded = meter.bytes
    context.close()
    return seconds, uploaded


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    runs = parser.parse_args().runs
    with tempfile.TemporaryDirectory() as folder, sync_playwright() as playwright:
        photo = photo_file(folder)
        browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True)
        app = demo_app(folder)
        meter = app.wsgi_app = UploadMeter(app.wsgi_app)
        with LiveServer(app) as server:
            print(f"photo: {photo.stat().st_size / 1e6:.1f} MB JPEG, 4032x3024, EXIF GPS; "
                  f"{runs} run(s) each")
            for label, javascript in (("before (plain form)", False),
                                      ("after (shrink + upload on choose)", True)):
                results = [send_report(browser, server.url, photo, javascript, meter)
                           for _ in range(runs)]
                seconds = statistics.median(r[0] for r in results)
                uploaded = statistics.median(r[1] for r in results)
                print(f"{label}: Send to report page {seconds:.1f} s (median; runs "
                      f"{', '.join(f'{r[0]:.1f}' for r in results)}), "
                      f"{uploaded / 1024:.0f} KB uploaded per photo")
        browser.close()


if __name__ == "__main__":
    main()
