"""The public statistics in a real Chromium, on a phone and a desktop: /stats, an area's page
and /data show their figures, chart and map with no console error, axe-clean, and no host
but ours and the tile server. Screenshots in /tmp/shots/stats/."""

import re
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import pytest
from playwright.sync_api import expect

from app import create_app
from app.demo import load_demo
from app.dispatch.accounts import create_staff_user
from app.storage import catalog, upgrade
from app.storage import reports as report_rows
from app.web.db import get_db
from tests.axe import assert_accessible
from tests.live import TILE_HOST, LiveServer, log_in, only_our_hosts

pytestmark = pytest.mark.browser
SHOTS = Path("/tmp/shots/stats")
SIZES = {"phone": (390, 844), "desktop": (1366, 768)}
STAFF = ("stats@demo.example", "weekly figures on paper")


def recent_reports(db, count=400, seed=3):
    """Reports of the last year over the demo's areas, with statuses, acknowledgements and
    fixes, so every figure of the pages has something to show."""
    rng = np.random.default_rng(seed)
    now = datetime.now(UTC).replace(microsecond=0)
    areas = list(db.query("SELECT a.id, a.service_id, a.version_id, a.min_lon, a.min_lat, "
                          "a.max_lon, a.max_lat, group_concat(c.category_id) AS categories "
                          "FROM service_areas a JOIN service_area_categories c "
                          "ON c.area_id = a.id GROUP BY a.id"))
    rows = []
    for number in range(count):
        area = areas[number % len(areas)]
        created = now - timedelta(hours=float(rng.uniform(1, 365 * 24)))
        status = ("new", "acknowledged", "in_progress", "fixed", "closed")[number % 5]
        acknowledged = created + timedelta(hours=float(rng.lognormal(2, 1)))
        fixed = acknowledged + timedelta(hours=float(rng.lognormal(3.5, 1)))
        rows.append({
            "category_id": int(area["categories"].split(",")[number % 2 and -1]),
            "service_id": area["service_id"], "area_id": area["id"],
            "boundary_version_id": area["version_id"],
            "lon": (area["min_lon"] + area["max_lon"]) / 2,
            "lat": (area["min_lat"] + area["max_lat"]) / 2,
            "description": "Seeded for the statistics pages", "status": status,
            "supports": number % 7, "created_at": created.isoformat(),
            "updated_at": created.isoformat(),
            "acknowledged_at": min(acknowledged, now).isoformat() if status != "new" else None,
            "fixed_at": min(fixed, now).isoformat() if status == "fixed" else None,
        })
    report_rows.insert_reports_bulk(db, rows)


@pytest.fixture(scope="module")
def stats_server(tmp_path_factory):
    folder = tmp_path_factory.mktemp("stats")
    app = create_app({
        "SECRET_KEY": "test", "DATABASE": str(folder / "stats.sqlite3"),
        "PHOTO_STORE": str(folder / "photos"),
        "RATE_LIMIT_DATABASE": str(folder / "rate-limits.sqlite3"),
        "TILE_URL": f"https://{TILE_HOST}/{{z}}/{{x}}/{{y}}.png",
        "TIME_ZONE": "America/Los_Angeles",
    })
    with app.app_context():
        db = get_db()
        upgrade(db)
        load_demo(db)
        recent_reports(db)
        create_staff_user(db, *STAFF, "dispatcher", ["sanitation", "street-lighting"])
        area_id = db.execute("SELECT a.id FROM service_areas a JOIN services s ON s.id = "
                             "a.service_id WHERE s.code = 'sanitation' ORDER BY a.name "
                             "LIMIT 1").fetchone()[0]
        assert catalog.all_services(db)
    with LiveServer(app) as server:
        server.area_id = area_id
        yield server


@pytest.fixture(params=list(SIZES))
def page(request, browser, stats_server):
    width, height = SIZES[request.param]
    context = browser.new_context(viewport={"width": width, "height": height},
                                  base_url=stats_server.url)
    page = context.new_page()
    page.size, page.hosts, page.errors = request.param, [], []
    page.route("**/*", only_our_hosts(page.hosts))
    page.on("console", lambda m: page.errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: page.errors.append(str(e)))
    yield page
    context.close()


def screenshot(page, name):
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{name}-{page.size}.png"), full_page=True)


def check_clean(page):
    assert page.errors == []
    assert set(page.hosts) <= {"127.0.0.1", TILE_HOST}
    assert_accessible(page)


def test_city_statistics_on_a_phone_and_a_desktop(page):
    page.goto("/stats?period=12m")
    expect(page.locator("h1")).to_have_text("What the city does with reports")
    received = page.locator("#stat-received dd a").first
    assert int(received.inner_text().replace(",", "")) > 300
    expect(page.locator("svg.chart rect")).to_have_count(
        page.locator(".chart-table tbody tr").count())
    assert page.locator("#stat-lines tbody tr").count() >= 4
    assert page.locator("#stat-supported li").count() == 5
    check_clean(page)
    screenshot(page, "stats-city")
    page.select_option("#stats-service", "sanitation")
    page.locator(".stats-filters button").click()
    expect(page).to_have_url(re.compile(r"service=sanitation"))
    check_clean(page)
    screenshot(page, "stats-service")


def test_a_service_area_page_with_its_map(page, stats_server):
    page.goto(f"/areas/{stats_server.area_id}?period=12m")
    expect(page.locator(".map-area path.leaflet-interactive").first).to_be_visible()
    assert page.locator(".map-area path.leaflet-interactive").count() > 1  # outline and dots
    expect(page.locator("#follow-area-email")).to_be_visible()
    check_clean(page)
    screenshot(page, "stats-area")


def test_the_open_data_catalogue(page):
    page.goto("/data")
    expect(page.locator("h2")).to_have_count(5)
    check_clean(page)
    screenshot(page, "data")


def test_the_pages_in_french(page):
    page.goto("/stats")
    page.locator("button[lang=fr]").click()
    expect(page.locator("h1")).to_have_text("Ce que la ville fait des signalements")
    check_clean(page)
    screenshot(page, "stats-city-fr")


def test_the_map_shows_where_reports_concentrate(page):
    page.goto("/map")
    page.locator("#map-panel summary").click()
    with page.expect_response(re.compile(r"/api/density\.json")):
        page.locator("#show-density").check()
    expect(page.locator("path.density-cell").first).to_be_attached()
    assert page.locator("path.density-cell").count() >= 10
    check_clean(page)
    screenshot(page, "map-density")
    page.locator("#show-density").uncheck()
    expect(page.locator("path.density-cell")).to_have_count(0)


def test_the_staff_statistics_share_the_weekly_chart(page):
    page.goto("/dispatch/stats")
    log_in(page, *STAFF)
    page.wait_for_url(re.compile(r"/dispatch"))
    page.goto("/dispatch/stats")
    expect(page.locator("svg.chart rect")).to_have_count(12)
    check_clean(page)
    screenshot(page, "dispatch-stats")
