"""Public data: parse the shared filters, and shape reports as GeoJSON, clusters and CSV.

The map, the list, the feed and the exports all read the same ``ReportQuery``, so a filter
means the same thing everywhere. No Flask here: URLs are built by a function passed in.
"""

import csv
import io
import json
import math
from dataclasses import dataclass
from datetime import UTC, date, datetime

from app import localtime
from app.errors import NotFound, ValidationError
from app.reporting import questions
from app.statuses import STATUSES
from app.storage import public as rows
from app.storage import reports as report_rows
from app.storage.public import ReportQuery

#: Clusters across a clustered view's longer side, unless the map asks for another number
#: (``cells``: a phone's map asks for fewer, so that they keep about the same size on screen).
CELLS_ACROSS = 32
MOST_CELLS_ACROSS = 64
#: Fewest pre-aggregated cells across a view's longer side: the cells a view touches count
#: every report in them, so cells wider than a quarter of the view would count (and place
#: clusters at) reports far outside it; such a view is grouped from its rows instead.
FEWEST_CELLS_ACROSS = 4
CSV_COLUMNS = ["id", "category", "category_name", "status", "service", "service_name",
               "created_at", "updated_at", "lon", "lat", "address", "description",
               "reporter_name", "supports", "url"]
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def public_report(db, report_id):
    """The report as the public sees it, or :class:`NotFound` if it is missing or hidden."""
    report = report_rows.public_report(db, report_id)
    if report is None:
        raise NotFound("There is no report number %(id)s.", id=report_id)
    return report


def parse_report_query(args, db, require_bbox=False, zone=UTC):
    """A :class:`ReportQuery` from request arguments, or :class:`ValidationError`; dates
    given without a time are days in ``zone`` (the city's)."""
    bbox = parse_bbox(args.get("bbox")) if args.get("bbox") else None
    if bbox is None and require_bbox:
        bbox = (-180.0, -90.0, 180.0, 90.0)
    since = _date_bound(args.get("since"), "since", zone)
    until = _date_bound(args.get("until"), "until", zone, whole_day=True)
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


def parse_cells_across(text):
    """``cells``, about how many clusters across the view's longer side a clustered answer
    has, from 2 to MOST_CELLS_ACROSS; :data:`CELLS_ACROSS` when not given.

    >>> parse_cells_across("13"), parse_cells_across(None)
    (13, 32)
    """
    if not text:
        return CELLS_ACROSS
    if not (text.isascii() and text.isdigit()):
        raise ValidationError("cells %(text)r is not a whole number.", text=text)
    across = int(text)
    if not 2 <= across <= MOST_CELLS_ACROSS:
        raise ValidationError("cells must be from 2 to %(most)s; got %(across)s.",
                              most=MOST_CELLS_ACROSS, across=across)
    return across


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


def _date_bound(text, name, zone, whole_day=False):
    """A date or date-time as an ISO string in UTC, or None. A date is the local midnight
    that starts it, or with ``whole_day`` (an 'until') the one that ends it."""
    if not text:
        return None
    try:
        if len(text) == 10:
            return _local_midnight(date.fromisoformat(text), zone, whole_day)
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise ValidationError("%(name)s %(text)r is not a date like 2024-05-31.",
                              name=name, text=text) from None
    if moment.tzinfo is None:
        raise ValidationError("%(name)s %(text)r needs a time zone offset, e.g. +00:00.",
                              name=name, text=text)
    return moment.astimezone(UTC).isoformat()


def _local_midnight(day, zone, next_one):
    """The day's first (or, ``next_one``, the next day's first) moment in the city, in UTC;
    past the calendar's ends, its first or last moment."""
    try:
        return localtime.next_day_start(day, zone) if next_one else localtime.day_start(day, zone)
    except OverflowError:
        return "9999-12-31T23:59:59+00:00" if next_one else "0001-01-01T00:00:00+00:00"


@dataclass(frozen=True)
class FeatureText:
    """What the map's features say in words and links: names in ``locale`` (statuses from
    ``status_names``), report and photo links as a prefix completed by the id or file name."""

    locale: str
    status_names: dict
    report_prefix: str
    photo_prefix: str

    @classmethod
    def for_reader(cls, locale, links):
        return cls(locale, {code: str(name) for code, name in STATUSES.items()},
                   links.report(""), links.photo(""))


def viewport(db, query, text, limit, across=CELLS_ACROSS):
    """The GeoJSON of a map view, as UTF-8 bytes: the reports, or clusters when more than
    ``limit`` match, about ``across`` of them across the view's longer side. The database
    writes every feature's text (and on SQLite the commas between them too)."""
    level = cell_level(db, query, across)
    clustered = over_limit(db, query, limit, level)
    if not clustered:
        features = rows.features_in_view(db, query, limit, text)
    elif level is not None:
        features = rows.cluster_features_from_cells(db, query, *level)
    else:
        size = max(query.bbox[2] - query.bbox[0], query.bbox[3] - query.bbox[1], 1e-9)
        features = rows.cluster_features_from_rows(db, query, size / across)
    return b'{"type":"FeatureCollection","clustered":%s,"features":%s}' % (
        b"true" if clustered else b"false", features)


def cell_level(db, query, across=CELLS_ACROSS):
    """The finest level of pre-aggregated cells (level, size) that draws the view in at
    most (2 x ``across``)^2 cells, if it has at least ``across`` / 4 (and at least
    FEWEST_CELLS_ACROSS) across the longer side; else None: too small a view, or a filter
    the cells do not keep (dates, ids, distance)."""
    if query.has_dates or query.ids or query.near is not None:
        return None
    min_lon, min_lat, max_lon, max_lat = query.bbox
    for level, size in reversed(rows.cell_levels(db)):
        wide = (max_lon - min_lon) / size + 1
        high = (max_lat - min_lat) / size + 1
        if wide * high <= (2 * across) ** 2:
            enough = max(wide, high) >= max(across / 4, FEWEST_CELLS_ACROSS)
            return (level, size) if enough else None
    return None


def over_limit(db, query, limit, level):
    """Whether more than ``limit`` reports match, from the cheapest count that settles it:
    the cells wholly inside the view (a subset: more means over; a few hundred rows however
    many reports), the spatial index's (a superset: not more means not over), else the
    map's rows themselves, read up to ``limit + 1``."""
    if level is not None and rows.count_in_whole_cells(db, query, *level) > limit:
        return True
    in_index = rows.spatial_index_count(db, query.bbox, limit + 1)
    if in_index is not None and in_index <= limit:
        return False
    return rows.more_than(db, query, limit)


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
        "address": row["address"],
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


def geojson_chunks(db, query, links):
    """A FeatureCollection of every match, as text chunks (streamed with flat memory)."""
    yield '{"type":"FeatureCollection","features":['
    separator = ""
    for row, answers in questions.with_answers(db, rows.iter_reports(db, query)):
        feature = report_feature(row, links)
        feature["properties"].update(questions.answer_columns(answers))
        yield separator + json.dumps(feature, separators=(",", ":"))
        separator = ","
    yield "]}"


def csv_chunks(db, query, links):
    """CSV of every match, one chunk per row; cells that a spreadsheet would run are defused."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    answer_columns = questions.answer_column_names(db)
    writer.writerow(CSV_COLUMNS + answer_columns)
    for row, answers in questions.with_answers(db, rows.iter_reports(db, query)):
        properties = report_properties(row, links)
        properties.update(lon=row["lon"], lat=row["lat"], **questions.answer_columns(answers))
        writer.writerow([defused(properties.get(c)) for c in CSV_COLUMNS + answer_columns])
        yield buffer.getvalue()
        buffer.seek(0)
        buffer.truncate()
    yield buffer.getvalue()


def defused(value):
    """Prefix text that starts like a formula with a quote (CSV injection guard)."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return "" if value is None else value
