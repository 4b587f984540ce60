"""The demo city: Los Angeles council districts, four city services and ~1,000 real requests.

Data: City of Los Angeles open data (MyLA311 service requests, January 2020, and the 2012
City Council District boundaries); see data/ATTRIBUTION.md. Loading is idempotent: layers
already present are kept and requests already imported are skipped.
"""

import csv
import json
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import numpy as np

from app.reporting.address_load import load_address_records
from app.reporting.areas import build_router, load_boundary_file
from app.reporting.places import geocode_reports
from app.reporting.questions import import_definitions
from app.storage import areas as area_rows
from app.storage import catalog
from app.storage import places as place_rows
from app.storage import reports as report_rows

DATA = Path(__file__).parent / "data"
DISTRICTS = DATA / "la_council_districts_2012.geojson"
REQUESTS = DATA / "la311_2020_sample.csv"
#: Questions of four categories, one required and one blocking (an import is an upsert).
QUESTIONS = DATA / "questions.json"
LOS_ANGELES = ZoneInfo("America/Los_Angeles")
SOURCE = "demo"

CATEGORIES = {
    "pothole": "Pothole",
    "sidewalk": "Damaged sidewalk",
    "streetlight": "Street light out",
    "graffiti": "Graffiti",
    "bulky-items": "Bulky items left out",
    "illegal-dumping": "Illegal dumping",
    "appliances": "Abandoned appliance",
    "e-waste": "Electronic waste",
    "dead-animal": "Dead animal",
}
SERVICES = [
    ("sanitation", "LA Sanitation",
     ["bulky-items", "illegal-dumping", "appliances", "e-waste", "dead-animal"], 3),
    ("beautification", "Office of Community Beautification", ["graffiti"], 3),
    ("street-lighting", "Bureau of Street Lighting", ["streetlight"], 7),
    ("street-services", "Bureau of Street Services", ["pothole", "sidewalk"], 14),
]
#: French names of the demo's categories and services, as a city would set them with
#: ``flask --app app names translate``.
FRENCH_NAMES = {
    ("category", "pothole"): "Nid-de-poule",
    ("category", "sidewalk"): "Trottoir abîmé",
    ("category", "streetlight"): "Lampadaire éteint",
    ("category", "graffiti"): "Graffiti",
    ("category", "bulky-items"): "Encombrants sur la voie publique",
    ("category", "illegal-dumping"): "Dépôt sauvage",
    ("category", "appliances"): "Électroménager abandonné",
    ("category", "e-waste"): "Déchets électroniques",
    ("category", "dead-animal"): "Animal mort",
    ("service", "sanitation"): "Propreté de Los Angeles",
    ("service", "beautification"): "Bureau d’embellissement des quartiers",
    ("service", "street-lighting"): "Service de l’éclairage public",
    ("service", "street-services"): "Service de la voirie",
}
REQUEST_TYPES = {
    "Bulky Items": "bulky-items",
    "Graffiti Removal": "graffiti",
    "Illegal Dumping Pickup": "illegal-dumping",
    "Metal/Household Appliances": "appliances",
    "Electronic Waste": "e-waste",
    "Dead Animal Removal": "dead-animal",
    "Single Streetlight Issue": "streetlight",
    "Multiple Streetlight Issue": "streetlight",
}
STATUSES = {
    "Open": "new",
    "Pending": "acknowledged",
    "Closed": "fixed",
    "Cancelled": "closed",
    "Referred Out": "closed",
}


def load_demo(db):
    """Load what is missing of the demo city; return a one-line summary."""
    layers = {row["layer"] for row in area_rows.layer_summaries(db)}
    for code, name in CATEGORIES.items():
        catalog.ensure_category(db, code, name)
    new_layers = 0
    for code, name, categories, target_days in SERVICES:
        catalog.ensure_service(db, code, name)
        catalog.set_service_target(db, code, target_days)
        if f"demo-{code}" not in layers:
            load_boundary_file(db, DISTRICTS, categories, service=code, layer=f"demo-{code}")
            new_layers += 1
    for (kind, code), name in FRENCH_NAMES.items():
        catalog.set_translated_name(db, kind, code, "fr", name)
    import_definitions(db, json.loads(QUESTIONS.read_text(encoding="utf-8")))
    imported, skipped = import_requests(db)
    points = load_addresses(db)
    _, geocoded = geocode_reports(db)
    return (
        f"Demo city: {new_layers} new service-area layer(s), {imported} report(s) imported, "
        f"{skipped} outside the districts skipped, {points} new address point(s), "
        f"{geocoded} report(s) given an address."
    )


def load_addresses(db):
    """Load the demo's address points unless addresses are loaded already; return how many.

    They are derived from the requests' own address and position (the place of the problem,
    never the reporter's), de-duplicated by the loader.
    """
    if place_rows.address_count(db):
        return 0
    records = [(r["address"], _coordinate(r["longitude"]), _coordinate(r["latitude"]))
               for r in _read_requests()]
    return load_address_records(db, f"demo: {REQUESTS.name}", records).loaded


def _coordinate(text):
    return float(text) if text.strip() else None


def import_requests(db):
    """Import the sample's MyLA311 requests not imported yet; return (imported, skipped)."""
    done = report_rows.external_ids(db, SOURCE)
    rows = [
        r for r in _read_requests()
        if r["requesttype"] in REQUEST_TYPES and f"la311:{r['srnumber']}" not in done
    ]
    if not rows:
        return 0, 0
    router = build_router(db)
    area_ids = router.route_many(
        [float(r["longitude"]) for r in rows],
        [float(r["latitude"]) for r in rows],
        np.array([REQUEST_TYPES[r["requesttype"]] for r in rows], dtype=object),
    )
    categories = {c["code"]: c["id"] for c in catalog.all_categories(db)}
    services = {s["code"]: s["id"] for s in catalog.all_services(db)}
    imported = 0
    with db.atomic():
        for row, area_id in zip(rows, area_ids.tolist(), strict=True):
            if area_id < 0:
                continue
            _import_one(db, row, router.areas[area_id], router.version, categories, services)
            imported += 1
    return imported, len(rows) - imported


def _read_requests():
    with open(REQUESTS, newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def _import_one(db, row, area, version, categories, services):
    created = _timestamp(row["createddate"])
    closed = _timestamp(row["closeddate"]) if row["closeddate"] else None
    status = STATUSES.get(row["status"], "new")
    report_id = report_rows.insert_report(db, {
        "category_id": categories[REQUEST_TYPES[row["requesttype"]]],
        "service_id": services[area.service],
        "area_id": area.id,
        "boundary_version_id": version,
        "lon": float(row["longitude"]),
        "lat": float(row["latitude"]),
        "description": f"{row['requesttype']} at {row['address']} "
                       f"(MyLA311 request {row['srnumber']}, via {row['requestsource']}).",
        "status": status,
        "source": SOURCE,
        "external_id": f"la311:{row['srnumber']}",
        "created_at": created,
        "updated_at": closed or created,
    })
    report_rows.add_event(db, report_id, "created", "MyLA311", at=created, to_status="new")
    if status != "new":
        report_rows.add_event(
            db, report_id, "status", "MyLA311", at=closed or created, from_status="new",
            to_status=status, public_note=f"Recorded by MyLA311 as {row['status']}.",
        )


def _timestamp(text):
    """'1/2/20 8:43' (Los Angeles local time) as ISO 8601 in UTC, like every stored time."""
    local = datetime.strptime(text, "%m/%d/%y %H:%M").replace(tzinfo=LOS_ANGELES)
    return local.astimezone(UTC).isoformat()
