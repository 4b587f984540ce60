"""Public data: parse the shared filters, and shape reports as GeoJSON, clusters and CSV.

The map, the list, the feed and the exports all read the same ``ReportQuery``, so a filter
means the same thing everywhere. No Flask here: URLs are built by a function passed in.
"""

import csv
import io
import json
import math
from datetime import UTC, date, datetime, timedelta

from app.errors import NotFound, ValidationError
from app.statuses import STATUSES
from app.storage import public as rows
from app.storage import reports as report_rows
from app.storage.public import ReportQuery

MAX_CELLS_FROM_AGGREGATES = 64 * 64
CELLS_ACROSS = 32
CSV_COLUMNS = ["id", "category", "category_name", "status", "service", "service_name",
               "created_at", "updated_at", "lon", "lat", "description", "reporter_name",
               "supports", "url"]
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def public_report(db, report_id):
    """The report as the public sees it, or :class:`NotFound` if it is missing or hidden."""
    report = report_rows.public_report(db, report_id)
    if report is None:
        raise NotFound("There is no report number %(id)s.", id=report_id)
    return report


def parse_report_query(args, db, require_bbox=False):
    """A :class:`ReportQuery` from request arguments, or :class:`ValidationError`."""
    bbox = parse_bbox(args.get("bbox")) if args.get("bbox") else None
    if bbox is None and require_bbox:
        bbox = (-180.0, -90.0, 180.0, 90.0)
    since, until = _date_bound(args.get("since"), "since"), _date_bound(args.get("until"), "until")
    if until is not None:
        until = _next_day(until)
    if since is not None and until is not None and since >= until:
        raise ValidationError("'since' must be on or before 'until'.")
    return ReportQuery(
        bbox=bbox,
        statuses=parse_codes(args.get("status"), lambda: set(STATUSES), "status"),
        categories=parse_codes(args.get("category"),
                               lambda: rows.known_codes(db, "categories"), "category"),
        services=parse_codes(args.get("service"),
                             lambda: rows.known_codes(db, "services"), "service"),
        since=since,
        until=until,
    )


def parse_bbox(text):
    """``minlon,minlat,maxlon,maxlat`` as four floats, or :class:`ValidationError`.

    >>> parse_bbox("-118.3,34.0,-118.2,34.1")
    (-118.3, 34.0, -118.2, 34.1)
    """
    parts = text.split(",")
    if len(parts) != 4:
        raise ValidationError(
            "bbox must be 4 numbers 'minlon,minlat,maxlon,maxlat'; got %(count)s values.",
            count=len(parts))
    try:
        values = tuple(float(p) for p in parts)
    except ValueError:
        raise ValidationError("bbox %(text)r contains something that is not a number.",
                              text=text) from None
    if not all(math.isfinite(v) for v in values):
        raise ValidationError("bbox %(text)r contains a value that is not a finite number.",
                              text=text)
    min_lon, min_lat, max_lon, max_lat = values
    if min_lon > max_lon or min_lat > max_lat:
        raise ValidationError("bbox minimum is greater than its maximum: use minlon,minlat,"
                              "maxlon,maxlat.")
    if not (-180 <= min_lon and max_lon <= 180 and -90 <= min_lat and max_lat <= 90):
        raise ValidationError("bbox is outside -180..180 longitude or -90..90 latitude.")
    return values


def parse_codes(text, known, name):
    """A comma list of codes, each one of ``known()`` (read only when codes are given)."""
    if not text:
        return ()
    codes = tuple(dict.fromkeys(c.strip() for c in text.split(",") if c.strip()))
    known = known()
    unknown = [c for c in codes if c not in known]
    if unknown:
        raise ValidationError("Unknown %(name)s: %(codes)s.", name=name, codes=", ".join(unknown))
    return codes


def _date_bound(text, name):
    """A date or date-time as an ISO string in UTC, or None."""
    if not text:
        return None
    try:
        if len(text) == 10:
            return date.fromisoformat(text).isoformat()
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise ValidationError("%(name)s %(text)r is not a date like 2024-05-31.",
                              name=name, text=text) from None
    if moment.tzinfo is None:
        raise ValidationError("%(name)s %(text)r needs a time zone offset, e.g. +00:00.",
                              name=name, text=text)
    return moment.astimezone(UTC).isoformat()


def _next_day(bound):
    """An 'until' date includes the whole day: the bound becomes the next midnight."""
    if len(bound) != 10:
        return bound
    try:
        return (date.fromisoformat(bound) + timedelta(days=1)).isoformat()
    except OverflowError:
        return "9999-12-31T23:59:59+00:00"


def viewport(db, query, links, limit):
    """The GeoJSON for a map view: the reports, or clusters when more than ``limit`` match."""
    if rows.more_than(db, query, limit):
        return feature_collection([cluster_feature(c) for c in clusters(db, query)], True)
    found = rows.reports_in_view(db, query, limit)
    return feature_collection([report_feature(r, links) for r in found], clustered=False)


def clusters(db, query):
    """Cell counts for a dense view: pre-aggregated when possible, else from the rows."""
    min_lon, min_lat, max_lon, max_lat = query.bbox
    if not query.has_dates:
        for level, size in reversed(rows.cell_levels(db)):
            across = (max_lon - min_lon) / size + 1
            high = (max_lat - min_lat) / size + 1
            if across * high <= MAX_CELLS_FROM_AGGREGATES:
                if max(across, high) >= CELLS_ACROSS / 4:
                    return rows.clusters_from_cells(db, query, level, size)
                break
    size = max(max_lon - min_lon, max_lat - min_lat, 1e-9) / CELLS_ACROSS
    return rows.clusters_from_rows(db, query, size)


def feature_collection(features, clustered):
    return {"type": "FeatureCollection", "clustered": clustered, "features": features}


def report_properties(row, links):
    return {
        "id": row["id"],
        "category": row["category_code"],
        "category_name": row["category"],
        "status": row["status"],
        "status_name": str(STATUSES.get(row["status"], row["status"])),
        "service": row["service_code"],
        "service_name": row["service"],
        "created_at": row["created_at"],
        "updated_at": row["updated_at"],
        "description": row["description"],
        "reporter_name": row["reporter_name"],
        "supports": row["supports"],
        "url": links.report(row["id"]),
        "thumbnail": links.photo(row["thumb_name"]) if row["thumb_name"] else None,
    }


def report_feature(row, links):
    return {
        "type": "Feature",
        "id": row["id"],
        "geometry": {"type": "Point", "coordinates": [row["lon"], row["lat"]]},
        "properties": report_properties(row, links),
    }


def cluster_feature(cell):
    return {
        "type": "Feature",
        "geometry": {"type": "Point", "coordinates": [cell["lon"], cell["lat"]]},
        "properties": {"cluster": True, "count": cell["count"]},
    }


def geojson_chunks(db, query, links):
    """A FeatureCollection of every match, as text chunks (streamed with flat memory)."""
    yield '{"type":"FeatureCollection","features":['
    separator = ""
    for row in rows.iter_reports(db, query):
        yield separator + json.dumps(report_feature(row, links), separators=(",", ":"))
        separator = ","
    yield "]}"


def csv_chunks(db, query, links):
    """CSV of every match, one chunk per row; cells that a spreadsheet would run are defused."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(CSV_COLUMNS)
    for row in rows.iter_reports(db, query):
        properties = report_properties(row, links)
        properties.update(lon=row["lon"], lat=row["lat"])
        writer.writerow([defused(properties[c]) for c in CSV_COLUMNS])
        yield buffer.getvalue()
        buffer.seek(0)
        buffer.truncate()
    yield buffer.getvalue()


def defused(value):
    """Prefix text that starts like a formula with a quote (CSV injection guard)."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return "" if value is None else value
