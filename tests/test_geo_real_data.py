"""Routing on real Los Angeles data, scored against the district the city recorded."""

import csv
from pathlib import Path

import numpy as np

from geo.boundaries import read_boundaries
from geo.routing import Area, Router

DATA = Path(__file__).parent / "data"


def council_router():
    layer = read_boundaries(DATA / "la_city_council_districts_2012.geojson")
    return Router([
        Area(int(f.properties["name"]), "council", frozenset({"any"}), f.geometry, size=f.size_m2)
        for f in layer.features
    ], version=1)


def test_council_districts_agree_with_the_city_record():
    with open(DATA / "la311_2020_requests_sample.csv", newline="") as handle:
        rows = [r for r in csv.DictReader(handle) if r["latitude"] and r["cd"]]
    assert len(rows) >= 2000
    found = council_router().route_many(
        [float(r["longitude"]) for r in rows], [float(r["latitude"]) for r in rows], "any"
    )
    recorded = np.array([int(float(r["cd"])) for r in rows])
    agreement = float(np.mean(found == recorded))
    assert agreement >= 0.995, f"{agreement:.4%} of {len(rows)} requests agree"


def test_single_and_bulk_routing_agree_on_real_boundaries():
    """The grid index of route() and both strategies of route_many give the same answers."""
    router = council_router()
    rng = np.random.default_rng(5)
    lons, lats = rng.uniform(-118.7, -118.1, 20000), rng.uniform(33.7, 34.35, 20000)
    single = [
        router.route(lon, lat, "any").area_id if router.categories_at(lon, lat) else -1
        for lon, lat in zip(lons, lats, strict=True)
    ]
    assert router.route_many(lons, lats, "any").tolist() == single
    assert router.route_many(lons[:100], lats[:100], "any").tolist() == single[:100]
