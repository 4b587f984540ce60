"""Paris, set up from its folder alone, in a real Chromium: French by default, a report
placed by searching a Paris address, its time read in Paris time, the ODbL line shown."""

import math
import re
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from playwright.sync_api import expect

from tests.axe import assert_accessible
from tests.live import only_our_hosts

pytestmark = pytest.mark.browser
#: A DansMaRue record (A2024C016447) at 90 Rue de la Victoire, 75009, as (lon, lat).
VICTOIRE = (2.331057787576589, 48.8750648491149)
SHOTS = Path("/tmp/shots/city")
PHONE = {"viewport": {"width": 390, "height": 844}, "is_mobile": True, "has_touch": True}
DESKTOP = {"viewport": {"width": 1366, "height": 768}}


def open_page(browser, server, locale, **options):
    context = browser.new_context(base_url=server.url, locale=locale, **options)
    page = context.new_page()
    page.route("**/*", only_our_hosts())
    page.script_errors = []
    page.on("pageerror", lambda error: page.script_errors.append(str(error)))
    return page


def metres_between(a, b):
    lon1, lat1, lon2, lat2 = map(math.radians, (*a, *b))
    h = (math.sin((lat2 - lat1) / 2) ** 2
         + math.cos(lat1) * math.cos(lat2) * math.sin((lon2 - lon1) / 2) ** 2)
    return 2 * 6371008.8 * math.asin(math.sqrt(h))


def screenshot(page, name):
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)


@pytest.mark.parametrize("size", ["390", "1366"])
def test_the_home_page_is_in_french_for_a_browser_of_another_language(
        browser, paris_server, size):
    page = open_page(browser, paris_server, "de-DE", **(PHONE if size == "390" else DESKTOP))
    page.goto("/")
    expect(page.locator("html")).to_have_attribute("lang", "fr")
    expect(page.locator("header")).to_contain_text("Dans ma rue — Paris")
    expect(page.locator("footer")).to_contain_text("Contains data from Ville de Paris, ODbL")
    expect(page.locator("footer a", has_text="ODbL")).to_have_attribute(
        "href", "https://opendatacommons.org/licenses/odbl/1-0/")
    screenshot(page, f"paris-home-{size}")
    assert_accessible(page)
    assert page.script_errors == []
    page.context.close()


def test_an_english_browser_gets_english_names(browser, paris_server):
    page = open_page(browser, paris_server, "en-GB", **PHONE)
    page.goto("/report/new")
    expect(page.locator("html")).to_have_attribute("lang", "en")
    expect(page.locator("#category")).to_contain_text("Sidewalk: subsidence, hole, bump")
    page.context.close()


@pytest.mark.parametrize("size", ["390", "1366"])
def test_a_report_placed_by_searching_an_address_reads_in_paris_time(
        browser, paris_server, size):
    page = open_page(browser, paris_server, "fr-FR", **(PHONE if size == "390" else DESKTOP))
    page.goto("/report/new")
    expect(page.locator("html")).to_have_attribute("lang", "fr")
    page.locator("#place-query").press_sequentially("90 rue de la victoire", delay=40)
    first = page.locator("#place-options [role=option]").first
    expect(first).to_contain_text(re.compile("90 Rue de la Victoire", re.IGNORECASE))
    screenshot(page, f"paris-form-suggestions-{size}")
    first.click()
    expect(page.locator("#location-status")).to_contain_text(
        re.compile("90 Rue de la Victoire", re.IGNORECASE))
    pin = float(page.input_value("#lon")), float(page.input_value("#lat"))
    assert metres_between(pin, VICTOIRE) < 30

    page.select_option("#category", "trottoirs")
    expect(page.locator("#category")).to_contain_text("Trottoir : affaissement, trou")
    page.fill("#description", "Dalle soulevée devant le numéro 90, on trébuche dessus.")
    page.locator("#report-form button[type=submit]").last.click()
    page.wait_for_url(re.compile(r"/reports/\d+$"))

    main = page.locator("main")
    expect(main).to_contain_text(re.compile("90 Rue de la Victoire", re.IGNORECASE))
    expect(main).to_contain_text("Direction de la Voirie et des Déplacements")
    shown = page.locator("main time").first
    machine = datetime.fromisoformat(shown.get_attribute("datetime"))
    paris_now = datetime.now(ZoneInfo("Europe/Paris"))
    assert machine.utcoffset() == paris_now.utcoffset()
    zone = "CEST" if paris_now.dst() else "CET"
    assert re.search(rf"{machine:%H:%M} {zone}$", shown.text_content()), shown.text_content()
    screenshot(page, f"paris-report-{size}")
    assert_accessible(page)
    assert page.script_errors == []
    page.context.close()


@pytest.mark.parametrize("size", ["390", "1366"])
def test_the_map_credits_the_city_s_data_in_its_attribution(browser, paris_server, size):
    page = open_page(browser, paris_server, "fr-FR", **(PHONE if size == "390" else DESKTOP))
    page.goto("/map")
    credit = page.locator(".leaflet-control-attribution").first
    expect(credit).to_contain_text("Contains data from Ville de Paris, ODbL")
    expect(credit).to_contain_text("OpenStreetMap")
    screenshot(page, f"paris-map-{size}")
    assert page.script_errors == []
    page.context.close()


@pytest.mark.parametrize("size", ["390", "1366"])
@pytest.mark.parametrize("path, box", [("/map", "#public-map"), ("/report/new", "#report-form")])
def test_the_city_maps_open_at_the_folder_s_centre_and_zoom(browser, paris_server, size, path,
                                                           box):
    page = open_page(browser, paris_server, "fr-FR", **(PHONE if size == "390" else DESKTOP))
    page.goto(path)
    page.wait_for_load_state("load")
    view = page.evaluate("""(box) => {
        const map = window[document.querySelector(box).dataset.map];
        const centre = map.getCenter();
        return [centre.lng, centre.lat, map.getZoom()];
    }""", box)
    assert view[2] == 12
    # Within a pixel at zoom 12 (~25 m; a phone's layout may shift it by a fraction of one);
    # the fit to the arrondissements would centre the map some 290 m away.
    assert metres_between(view[:2], (2.3488, 48.8566)) < 50
    screenshot(page, f"paris-view{path.replace('/', '-')}-{size}")
    assert page.script_errors == []
    page.context.close()
