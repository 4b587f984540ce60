"""Service areas: loading boundary files as new versions, and the router built from them."""

import threading
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import shapely
import shapely.geometry

from app.errors import ValidationError
from app.fields import check_xml_safe
from app.storage import areas as area_rows
from app.storage import catalog
from app.storage import reports as report_rows
from geo.boundaries import read_boundaries
from geo.routing import Area, Router


def load_boundary_file(db, path, categories, service=None, service_field=None, priority=0,
                       crs=None, layer=None, name_field=None):
    """Read, validate and store a boundary file as a new version; return (version, report).

    Exactly one of ``service`` (every feature goes to that service) and ``service_field``
    (each feature's value of that field is its service code) must be given. Nothing is
    written unless the whole file is valid.
    """
    if (service is None) == (service_field is None):
        raise ValidationError("Give either a service code or a service field, not both.")
    if not categories:
        raise ValidationError("Give at least one category code.")
    boundary = read_boundaries(path, crs=crs)
    if service_field is not None and service_field not in boundary.fields:
        raise ValidationError(
            f"The file has no field {service_field!r}; its fields are: "
            + ", ".join(boundary.fields)
        )
    rows = []
    with db.atomic():
        category_ids = [catalog.ensure_category(db, code) for code in categories]
        for number, feature in enumerate(boundary.features, start=1):
            code = service or _service_code(feature.properties, service_field, number)
            rows.append({
                "service_id": catalog.ensure_service(db, code),
                "name": _area_name(feature.properties, name_field, number),
                "priority": priority,
                "size_m2": feature.size_m2,
                "bounds": shapely.bounds(feature.geometry).tolist(),
                "wkb": shapely.to_wkb(feature.geometry),
                "properties": feature.properties,
                "category_ids": category_ids,
            })
        version = area_rows.add_layer_version(
            db, layer or Path(path).stem, Path(path).name, boundary.report.lines(), rows
        )
    return version, boundary.report


def _service_code(properties, field, number):
    value = properties.get(field)
    if value is None or not str(value).strip():
        raise ValidationError(f"Feature {number} has no value for {field!r}.")
    return check_xml_safe(str(value).strip(), f"The service code of feature {number}")


def _area_name(properties, name_field, number):
    for key in (name_field, "name", "NAME", "Name", "l_aroff"):
        if key and properties.get(key) not in (None, ""):
            return check_xml_safe(str(properties[key]), f"The name of feature {number}")
    return f"Area {number}"


def build_router(db):
    """A Router over the areas in force, for the current boundary version."""
    version = area_rows.current_version(db)
    areas = [
        Area(
            id=row["id"],
            service=row["service"],
            categories=frozenset(row["categories"].split(",")),
            geometry=shapely.from_wkb(row["geometry"]),
            priority=row["priority"],
            size=row["size_m2"],
            name=row["name"],
        )
        for row in area_rows.active_areas(db)
    ]
    return Router(areas, version)


class RouterCache:
    """Holds the router of the current boundary version and rebuilds it when a new one lands.

    Checking costs one indexed query, so any process sees a load made by another one without
    a restart.
    """

    def __init__(self):
        self._router = None
        self._lock = threading.Lock()

    def get(self, db):
        version = area_rows.current_version(db)
        router = self._router
        if router is None or router.version != version:
            with self._lock:
                if self._router is None or self._router.version != version:
                    self._router = build_router(db)
                router = self._router
        return router


@dataclass
class RerouteSummary:
    """What re-routing against the current boundary version changes.

    A report moves when its service or the name of its area changes. A report that lands in
    the new version of the same area is left alone: it keeps the version it was routed with.
    """

    version: int
    checked: int = 0
    area_changes: int = 0
    uncovered: int = 0
    service_changes: Counter = field(default_factory=Counter)

    def lines(self):
        lines = [
            f"reports checked against boundary version {self.version}: {self.checked}",
            f"reports that move to another area: {self.area_changes}",
            f"reports whose service changes: {sum(self.service_changes.values())}",
        ]
        lines += [f"  {old} -> {new}: {count}"
                  for (old, new), count in sorted(self.service_changes.items())]
        lines.append(f"reports no longer covered (left as they are): {self.uncovered}")
        return lines


def reroute_reports(db, router, apply=False):
    """Route every stored report again; with ``apply``, store the changes as report events."""
    rows = report_rows.routing_rows(db)
    summary = RerouteSummary(router.version, checked=len(rows))
    if not rows:
        return summary
    found = router.route_many(
        [r["lon"] for r in rows], [r["lat"] for r in rows],
        np.array([r["category"] for r in rows], dtype=object),
    )
    services = catalog.services_by_code(db)
    with db.atomic():
        for row, area_id in zip(rows, found.tolist(), strict=True):
            if area_id < 0:
                summary.uncovered += 1
            elif _moves(row, router.areas[area_id]):
                _record_change(db, summary, row, router.areas[area_id], services, apply)
    return summary


def _moves(row, area):
    return area.service != row["service"] or area.name != row["area_name"]


def _record_change(db, summary, row, area, services, apply):
    summary.area_changes += 1
    if area.service != row["service"]:
        summary.service_changes[(row["service"], area.service)] += 1
    if not apply:
        return
    report_rows.reassign(db, row["id"], services[area.service]["id"], area.id, summary.version)
    report_rows.add_event(db, row["id"], "rerouted", "system", details={
        "from_service": row["service"], "to_service": area.service,
        "from_area": row["area_id"], "to_area": area.id, "boundary_version": summary.version,
    })


def areas_feature_collection(db, tolerance=0.00005):
    """The areas in force as GeoJSON (simplified for display), with service and categories."""
    features = []
    for row in area_rows.active_areas(db):
        geometry = shapely.simplify(shapely.from_wkb(row["geometry"]), tolerance)
        features.append({
            "type": "Feature",
            "id": row["id"],
            "geometry": shapely.geometry.mapping(geometry),
            "properties": {"name": row["name"], "service": row["service"],
                           "categories": row["categories"].split(",")},
        })
    return {"type": "FeatureCollection", "features": features}
