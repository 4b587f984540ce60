"""The demo city, Los Angeles, is a city folder (``data/city.toml``): council districts as
the areas of four city services, nine categories with questions, and ~1,050 real MyLA311
requests as history. This module only loads it, as ``flask --app app city load`` would.

Data: City of Los Angeles open data (MyLA311 service requests, January 2020, and the 2012
City Council District boundaries); see data/ATTRIBUTION.md. Loading is idempotent.
"""

from pathlib import Path

from app.reporting.city import load_city_folder

DATA = Path(__file__).parent / "data"
REQUESTS = DATA / "la311_2020_sample.csv"
#: The languages the demo's folder offers (the site's own are checked by the CLI).
LANGUAGES = ("en", "fr")


def load_demo(db, languages=LANGUAGES):
    """Load what is missing of the demo city; return a one-line summary."""
    load = load_city_folder(db, DATA, languages)
    points = load.addresses.loaded if load.addresses else 0
    return (
        f"Demo city: {len(load.layers_loaded)} new service-area layer(s), "
        f"{load.history_imported} report(s) imported, {load.history_outside} outside the "
        f"districts skipped, {points} new address point(s), {load.geocoded} report(s) given "
        "an address."
    )
