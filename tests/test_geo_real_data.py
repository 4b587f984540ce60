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
