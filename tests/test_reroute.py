"""Boundary versions on real data: two vintages of LA Neighborhood Councils, and re-routing."""

import csv
from pathlib import Path

import numpy as np

from app.reporting.areas import build_router, load_boundary_file, reroute_reports
from app.storage import reports as report_rows
from app.web.db import get_db
from tests.factories import make_category

DATA = Path(__file__).parent / "data"


def import_requests(db, router, limit=2500):
    """Store real requests routed by ``router``, the way a bulk import would."""
    with open(DATA / "la311_2020_requests_sample.csv", newline="") as handle:
        rows = [r for r in csv.DictReader(handle) if r["latitude"]][:limit]
    lons = np.array([float(r["longitude"]) for r in rows])
    lats = np.array([float(r["latitude"]) for r in rows])
    found = router.route_many(lons, lats, "any")
    category_id = make_category(db, "any", "Anything")
    services = {s["code"]: s["id"] for s in db.query("SELECT id, code FROM services")}
    stored = 0
    for lon, lat, area_id in zip(lons, lats, found.tolist(), strict=True):
        if area_id < 0:
            continue
        area = router.areas[area_id]
        report_rows.insert_report(db, {
            "category_id": category_id, "service_id": services[area.service],
            "area_id": area_id, "boundary_version_id": router.version, "lon": float(lon),
            "lat": float(lat), "description": "imported", "source": "test",
        })
        stored += 1
    return stored


def load_nc(db, name):
    return load_boundary_file(db, DATA / name, ["any"], service_field="nc_id", layer="nc")


def test_two_vintages_load_as_two_versions_and_reroute_counts_changes(app, runner):
    with app.app_context():
        db = get_db()
        first, report = load_nc(db, "la_neighborhood_councils_2019.geojson")
        assert report.features_read == 99
        stored = import_requests(db, build_router(db))
        assert stored > 2000
        second, report = load_nc(db, "la_neighborhood_councils_2021-01-22.geojson")
        assert second == first + 1 and report.repaired == 1
        dry = reroute_reports(db, build_router(db), apply=False)
        events_before = db.execute("SELECT count(*) FROM report_events").fetchone()[0]
        assert dry.checked == stored
        moved = sum(dry.service_changes.values())
        assert 0 < moved < stored * 0.2
        # the two councils certified in 2019 carry nc_id 0 there, and 127/128 in 2021
        assert {("0", "127"), ("0", "128")} <= set(dry.service_changes)

    listing = runner.invoke(args=["reports", "reroute", "--dry-run"]).output
    assert f"reports whose service changes: {moved}" in listing
    assert "Dry run: nothing changed." in listing

    applied = runner.invoke(args=["reports", "reroute"]).output
    assert "Changes applied as report events." in applied
    with app.app_context():
        db = get_db()
        events = db.execute("SELECT count(*) FROM report_events WHERE kind = 'rerouted'")
        assert events.fetchone()[0] == dry.area_changes
        assert db.execute("SELECT count(*) FROM report_events").fetchone()[0] == (
            events_before + dry.area_changes)
        moved_now = db.execute(
            "SELECT count(*) FROM reports WHERE boundary_version_id = ?", [second]
        ).fetchone()[0]
        assert moved_now == dry.area_changes
        again = reroute_reports(db, build_router(db), apply=False)
        assert again.area_changes == 0
