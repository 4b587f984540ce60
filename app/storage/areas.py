"""Boundary versions and service areas.

Every load of a boundary file creates a version. A version supersedes the areas of the same
layer, which are marked retired by it; the areas in force are the ones not retired. The
latest version id names the state of the whole map, and each report stores it.
"""

import json

from app.storage import now


def current_version(db):
    """The id of the latest boundary version, or 0 when none was ever loaded."""
    return db.execute("SELECT coalesce(max(id), 0) FROM boundary_versions").fetchone()[0]


def add_layer_version(db, layer, source, report, areas):
    """Store a new version of ``layer`` and its areas in one transaction; return the version id.

    ``areas`` are dicts with service_id, name, priority, size_m2, bounds, wkb, properties and
    category_ids.
    """
    with db.atomic():
        version_id = db["boundary_versions"].insert({
            "layer": layer,
            "source": source,
            "loaded_at": now(),
            "feature_count": len(areas),
            "report": json.dumps(report),
        }).last_pk
        db.execute(
            "UPDATE service_areas SET retired_version_id = ? "
            "WHERE layer = ? AND retired_version_id IS NULL",
            [version_id, layer],
        )
        for area in areas:
            _insert_area(db, version_id, layer, area)
    return version_id


def _insert_area(db, version_id, layer, area):
    minx, miny, maxx, maxy = area["bounds"]
    area_id = db["service_areas"].insert({
        "service_id": area["service_id"],
        "version_id": version_id,
        "layer": layer,
        "name": area["name"],
        "priority": area["priority"],
        "size_m2": area["size_m2"],
        "min_lon": minx,
        "min_lat": miny,
        "max_lon": maxx,
        "max_lat": maxy,
        "geometry": area["wkb"],
        "properties": json.dumps(area["properties"], default=str),
    }).last_pk
    db["service_area_categories"].insert_all(
        {"area_id": area_id, "category_id": category_id} for category_id in area["category_ids"]
    )


def active_areas(db):
    """The areas in force, with their layer, properties, service code and category codes
    (comma separated), in id order."""
    return list(db.query("""
        SELECT a.id, a.layer, a.name, a.priority, a.size_m2, a.geometry, a.properties,
               s.code AS service,
               group_concat(c.code) AS categories
        FROM service_areas a
        JOIN services s ON s.id = a.service_id
        JOIN service_area_categories ac ON ac.area_id = a.id
        JOIN categories c ON c.id = ac.category_id
        WHERE a.retired_version_id IS NULL
        GROUP BY a.id, s.code
        ORDER BY a.id
    """))


def active_area(db, area_id):
    """An area in force with its service's name, or None."""
    rows = list(db.query(
        "SELECT a.id, a.name, s.code AS service_code, s.name AS service FROM service_areas a "
        "JOIN services s ON s.id = a.service_id "
        "WHERE a.id = ? AND a.retired_version_id IS NULL", [area_id]))
    return rows[0] if rows else None


def active_area_choices(db):
    """Every area in force with its service's name, for a list to choose from."""
    return list(db.query(
        "SELECT a.id, a.name, s.code AS service_code, s.name AS service FROM service_areas a "
        "JOIN services s ON s.id = a.service_id WHERE a.retired_version_id IS NULL "
        "ORDER BY s.name, a.name, a.id"))


def area_bounds_and_geometry(db, area_id):
    rows = list(db.query("SELECT id, min_lon, min_lat, max_lon, max_lat, geometry "
                         "FROM service_areas WHERE id = ?", [area_id]))
    return rows[0] if rows else None


def coverage_bounds(db):
    """(min_lon, min_lat, max_lon, max_lat) of the areas in force, or None."""
    row = db.execute(
        "SELECT min(min_lon), min(min_lat), max(max_lon), max(max_lat) FROM service_areas "
        "WHERE retired_version_id IS NULL"
    ).fetchone()
    return None if row[0] is None else tuple(row)


def layer_summaries(db):
    """One row per layer version: service codes, feature count, bounds and whether in force."""
    return list(db.query("""
        SELECT v.id AS version, v.layer, v.source, v.loaded_at, v.feature_count,
               group_concat(DISTINCT s.code) AS services,
               min(a.min_lon) AS min_lon, min(a.min_lat) AS min_lat,
               max(a.max_lon) AS max_lon, max(a.max_lat) AS max_lat,
               max(a.retired_version_id IS NULL) AS in_force
        FROM boundary_versions v
        JOIN service_areas a ON a.version_id = v.id
        JOIN services s ON s.id = a.service_id
        GROUP BY v.id
        ORDER BY v.id
    """))
