"""Loading the gazetteer: address points from a CSV or GeoJSON file (or from records), grouped
by street, de-duplicated, kept only inside the service areas, replacing the previous set.

Operators run it from the command line, so its messages are in English.
"""

import math
from dataclasses import dataclass, field

import numpy as np

from app.errors import ValidationError
from app.reporting.address_text import has_words, join_address, split_address, tokens
from app.reporting.areas import build_router
from app.storage import places as place_rows
from geo.points import read_points


@dataclass
class AddressLoad:
    """What loading an address file did, for the person who ran it."""

    source: str
    rows_read: int = 0
    loaded: int = 0
    streets: int = 0
    no_position: int = 0
    no_address: int = 0
    outside: int = 0
    duplicates: int = 0
    notes: list = field(default_factory=list)

    def lines(self):
        return [
            f"file: {self.source}",
            f"rows read: {self.rows_read}",
            *self.notes,
            f"rows without a position (skipped): {self.no_position}",
            f"rows without an address (skipped): {self.no_address}",
            f"rows outside every service area (skipped): {self.outside}",
            f"duplicate addresses (kept once): {self.duplicates}",
            f"address points loaded: {self.loaded} on {self.streets} streets",
        ]


def load_address_file(db, path, address_field=None, lon_field=None, lat_field=None, crs=None):
    """Replace the gazetteer with the points of a CSV or GeoJSON file; return an AddressLoad.

    The address of a row is ``address_field`` when given, else the OpenAddresses fields
    (NUMBER, STREET, CITY, POSTCODE; the units of one house number are one point: residents
    report problems in the street). Nothing changes unless the file is usable.
    """
    points = read_points(path, lon_field=lon_field, lat_field=lat_field, crs=crs)
    texts = _address_texts(points, address_field)
    load = AddressLoad(points.report.source, rows_read=points.report.rows_read,
                       no_position=points.report.no_position)
    if points.report.reprojected:
        load.notes.append(f"CRS: {points.report.source_crs} (reprojected to EPSG:4326)")
    return _store(db, load, texts, points.lons, points.lats)


def load_address_records(db, source, records):
    """Replace the gazetteer with ``records`` (address text, lon or None, lat or None)."""
    records = list(records)
    positioned = [r for r in records if r[1] is not None and r[2] is not None]
    load = AddressLoad(source, rows_read=len(records),
                       no_position=len(records) - len(positioned))
    return _store(db, load, [r[0] for r in positioned],
                  np.array([r[1] for r in positioned], dtype=np.float64),
                  np.array([r[2] for r in positioned], dtype=np.float64))


def _address_texts(points, address_field):
    by_lower = {name.strip().lower(): name for name in points.fields}
    if address_field is not None:
        key = by_lower.get(address_field.strip().lower())
        if key is None:
            raise ValidationError(
                "The file has no field %(field)r; its fields are: %(fields)s.",
                field=address_field, fields=", ".join(points.fields))
        return [str(row.get(key) or "").strip() for row in points.rows]
    if "number" in by_lower and "street" in by_lower:
        return [_open_addresses_text(row, by_lower) for row in points.rows]
    if "address" in by_lower:
        return [str(row.get(by_lower["address"]) or "").strip() for row in points.rows]
    raise ValidationError(
        "Name the field holding the address with --address-field; the file's fields are: "
        "%(fields)s.", fields=", ".join(points.fields) or "none")


def _open_addresses_text(row, by_lower):
    def value(name):
        key = by_lower.get(name)
        return str(row.get(key) or "").strip() if key else ""

    if not value("street"):
        return ""
    locality = " ".join(part for part in (value("city"), value("postcode")) if part)
    return join_address(value("number"), value("street"), locality)


def _store(db, load, texts, lons, lats):
    named = np.array([has_words(text) for text in texts], dtype=bool)
    load.no_address = int((~named).sum())
    covered = _covered(db, lons, lats) & named
    load.outside = int((named & ~covered).sum())
    kept = np.flatnonzero(covered).tolist()
    streets, points = _group_by_street([texts[i] for i in kept], lons[kept], lats[kept])
    load.duplicates = len(kept) - len(points)
    if not points:
        raise ValidationError(
            "%(source)s has no usable address point inside the service areas (read "
            "%(rows)s rows): nothing was changed.", source=load.source, rows=load.rows_read)
    load.loaded, load.streets = len(points), len(streets)
    place_rows.replace_addresses(db, streets, points, {
        "source": load.source, "points": load.loaded,
        "skipped_no_position": load.no_position, "skipped_outside": load.outside,
    })
    return load


def _covered(db, lons, lats):
    """Which points fall inside at least one service area in force."""
    router = build_router(db)
    if not router.areas:
        raise ValidationError("Load the service areas first (flask --app app areas load): "
                              "address points outside every area are not kept.")
    return router.covers_many(lons, lats)


def _group_by_street(texts, lons, lats):
    """Streets (with a representative point: the one of their points nearest their middle)
    and points as (street_id, number, address, lon, lat), one per house number of a street
    (the first one given), however its text is spelled."""
    spellings, street_ids, streets, points, seen, members = {}, {}, [], [], set(), []
    for text, lon, lat in zip(texts, lons.tolist(), lats.tolist(), strict=True):
        parts = split_address(text)
        key = spellings.get((parts.street, parts.locality)) or _street_id(
            spellings, street_ids, streets, parts)
        if (key, parts.number) in seen:
            continue
        seen.add((key, parts.number))
        points.append((key, parts.number, parts.display, lon, lat))
        while len(members) < key:
            members.append([])
        members[key - 1].append((lon, lat))
    for street, positions in zip(streets, members, strict=True):
        street["lon"], street["lat"] = _middle_point(positions)
    return streets, points


def _street_id(spellings, street_ids, streets, parts):
    """The id of the street named by ``parts`` (a new one when its words are new), noted
    under its spelling so the next row with that spelling skips the folding."""
    words = (" ".join(tokens(parts.street)), " ".join(tokens(parts.locality)))
    if words not in street_ids:
        street_ids[words] = len(streets) + 1
        streets.append({"id": street_ids[words], "name": parts.street,
                        "locality": parts.locality, "name_tokens": words[0],
                        "locality_tokens": words[1]})
    spellings[(parts.street, parts.locality)] = street_ids[words]
    return street_ids[words]


def _middle_point(positions):
    """The point nearest the mean of ``positions`` (it lies on the street, the mean may not).

    >>> _middle_point([(0.0, 0.0), (1.0, 0.0), (5.0, 0.0)])
    (1.0, 0.0)
    """
    mean_lon = math.fsum(p[0] for p in positions) / len(positions)
    mean_lat = math.fsum(p[1] for p in positions) / len(positions)
    return min(positions, key=lambda p: (p[0] - mean_lon) ** 2 + (p[1] - mean_lat) ** 2)
