"""The public map's first view on a phone: bytes transferred and time to the first reports,
before (answers uncompressed, as before issue 16) and after (compressed), in one run on the
same demo database.

Run: .venv/bin/python bench/map_bytes_bench.py [--runs N]

Chromium (Playwright, /usr/bin/chromium) at 390x844, a fresh cache per view, with CDP network
throttling (1.5 Mbit/s down, 750 kbit/s up, 150 ms latency). Counted: the encoded bytes
(headers and bodies, as they crossed the wire) of every request the page makes to the app
until its first reports are shown and the network is idle; tiles come from the tile server and
are not counted. "Repeat view" is the same page opened again in the same browser: the hashed
styles and scripts come from its cache. The service worker's one-time download of the app
shell runs in the background, after the page is shown, and is printed on its own line.
"""

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import urlsplit

import requests

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from playwright.sync_api import sync_playwright  # noqa: E402

from app import create_app  # noqa: E402
from app.demo import load_demo  # noqa: E402
from app.storage import upgrade  # noqa: E402
from app.web.db import get_db  # noqa: E402
from app.web.pwa import shell_urls  # noqa: E402
from tests.live import LiveServer  # noqa: E402

CHROMIUM = "/usr/bin/chromium"
#: Every host but this machine is "not found" inside Chromium: no name lookup leaves it.
ONLY_LOOPBACK = "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1"
PHONE = {"width": 390, "height": 844}
THROTTLE = {"offline": False, "latency": 150, "uploadThroughput": 750_000 / 8,
            "downloadThroughput": 1_500_000 / 8}
GOAL_KB = 150


def demo_app(folder, compressed):
    """The demo city; both variants share one database, loaded once."""
    database = Path(folder) / "demo.sqlite3"
    fresh = not database.exists()
    app = create_app({
        "SECRET_KEY": "bench", "DATABASE": str(database),
        "PHOTO_STORE": str(Path(folder) / "photos"), "RATE_LIMITS_ON": False,
        "RATE_LIMIT_DATABASE": str(Path(folder) / "limits.sqlite3"),
        "TILE_URL": "https://tiles.invalid/{z}/{x}/{y}.png",
        "COMPRESS_REGISTER": compressed,  # Flask-Compress off: the "before"
    })
    if fresh:
        with app.app_context():
            upgrade(get_db())
            load_demo(get_db())
    return app


def view(context, cdp, url):
    """Open the map; return (KB from the app, seconds to the first reports)."""
    sizes, hosts = {}, {}
    cdp.on("Network.responseReceived",
           lambda e: hosts.__setitem__(e["requestId"], urlsplit(e["response"]["url"]).hostname))
    cdp.on("Network.loadingFinished",
           lambda e: sizes.__setitem__(e["requestId"], e["encodedDataLength"]))
    page = context.pages[0]
    started = time.perf_counter()
    page.goto(url + "/map")
    page.wait_for_selector("#map-status:not(:empty)", timeout=120_000)
    seconds = time.perf_counter() - started
    page.wait_for_load_state("networkidle")
    ours = sum(size for request, size in sizes.items() if hosts.get(request) == "127.0.0.1")
    return ours / 1024, seconds


def measure(browser, url):
    context = browser.new_context(viewport=PHONE, is_mobile=True, has_touch=True,
                                  service_workers="block")
    page = context.new_page()  # no page.route: Playwright's routing turns the cache off
    cdp = context.new_cdp_session(page)
    cdp.send("Network.enable")
    cdp.send("Network.emulateNetworkConditions", THROTTLE)
    first = view(context, cdp, url)
    repeat = view(context, cdp, url)
    context.close()
    return first, repeat


def shell_kb(app, url):
    """What the service worker downloads once, compressed as a browser asks."""
    with app.test_request_context():
        urls = shell_urls()
    total = 0
    for path in urls:
        answer = requests.get(url + path, headers={"Accept-Encoding": "gzip, deflate, br, zstd"},
                              stream=True, timeout=30)
        total += len(answer.raw.read())
    return total / 1024


def summary(name, runs):
    firsts = [run[0] for run in runs]
    repeats = [run[1] for run in runs]
    kb = statistics.median(k for k, _ in firsts)
    seconds = statistics.median(s for _, s in firsts)
    repeat_kb = statistics.median(k for k, _ in repeats)
    print(f"{name:<28} first view {kb:7.1f} KB in {seconds:5.2f} s (runs: "
          + ", ".join(f"{k:.1f} KB/{s:.2f} s" for k, s in firsts)
          + f"); repeat view {repeat_kb:6.1f} KB")
    return kb


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder, sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM,
                                             args=["--no-sandbox", ONLY_LOOPBACK])
        results = {}
        for name, compressed in (("before (uncompressed)", False), ("after (compressed)", True)):
            app = demo_app(folder, compressed)
            with LiveServer(app) as server:
                results[name] = summary(name, [measure(browser, server.url)
                                               for _ in range(args.runs)])
                if compressed:
                    print(f"{'service worker, once':<28} app shell {shell_kb(app, server.url):.1f}"
                          " KB, in the background after the first view")
        browser.close()
    after = results["after (compressed)"]
    print(f"goal: first view <= {GOAL_KB} KB: {'met' if after <= GOAL_KB else 'NOT met'} "
          f"({after:.1f} KB, {results['before (uncompressed)'] / after:.1f}x less)")


if __name__ == "__main__":
    main()
