"""Reading point files (CSV or GeoJSON) into longitudes, latitudes and each row's fields.

Address lists come as CSV (OpenAddresses' ``LON,LAT,NUMBER,STREET,...`` layout, or any CSV
with two coordinate columns) or as GeoJSON points. Rows without a usable position are
counted, not fatal: a city's export always has a few. A file that cannot be read at all, or
whose coordinates have no known meaning, is an error.
"""

import csv
import json
import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from pyproj import CRS, Transformer
from pyproj.exceptions import CRSError

from geo.coords import LAT_RANGE, LON_RANGE
from geo.errors import PointFileError

APP_CRS = "EPSG:4326"
LON_NAMES = ("lon", "longitude", "lng", "x")
LAT_NAMES = ("lat", "latitude", "y")


@dataclass
class PointReport:
    """What reading a point file found, for the person who loads it."""

    source: str
    source_crs: str
    rows_read: int = 0
    no_position: int = 0
    reprojected: bool = False


@dataclass
class PointFile:
    """The rows with a usable position: their (lon, lat) in EPSG:4326 and their fields."""

    lons: np.ndarray
    lats: np.ndarray
    rows: list
    fields: list
    report: PointReport


def read_points(path, lon_field=None, lat_field=None, crs=None):
    """Read a CSV or GeoJSON file of points, reprojected to EPSG:4326.

    Parameters
    ----------
    path : str or Path
        A ``.csv`` file with a header row, or a GeoJSON FeatureCollection of points.
    lon_field, lat_field : str, optional
        The CSV columns holding the coordinates (default: ``lon``/``longitude``/``x`` and
        ``lat``/``latitude``/``y``, in any case).
    crs : str, optional
        The CRS of the coordinates when the file does not declare one, e.g. ``"EPSG:2229"``.

    Raises
    ------
    PointFileError
        When the file cannot be read, lacks the coordinate columns, declares a CRS other
        than ``crs``, or has no CRS and coordinates that are not longitudes/latitudes.

    Examples
    --------
    >>> import tempfile
    >>> with tempfile.NamedTemporaryFile("w", suffix=".csv", delete=False) as f:
    ...     _ = f.write("LON,LAT,NUMBER\\n-118.24,34.06,977\\n,,12\\n")
    >>> points = read_points(f.name)
    >>> (points.lons.tolist(), points.rows[0]["NUMBER"], points.report.no_position)
    ([-118.24], '977', 1)
    """
    path = Path(path)
    if not path.is_file():
        raise PointFileError("%(path)s does not exist or is not a file.", path=str(path))
    if path.suffix.lower() in (".geojson", ".json"):
        xs, ys, rows, fields, declared = _read_geojson(path)
    else:
        xs, ys, rows, fields = _read_csv(path, lon_field, lat_field)
        declared = None
    report = PointReport(source=path.name, source_crs=declared or "none declared",
                         rows_read=len(rows))
    lons, lats = _to_app_crs(np.array(xs, dtype=np.float64), np.array(ys, dtype=np.float64),
                             declared, crs, report)
    usable = (np.isfinite(lons) & np.isfinite(lats) & (np.abs(lons) <= LON_RANGE[1])
              & (np.abs(lats) <= LAT_RANGE[1]))
    report.no_position = int((~usable).sum())
    kept = np.flatnonzero(usable)
    return PointFile(lons[kept], lats[kept], [rows[i] for i in kept.tolist()], fields, report)


def _read_csv(path, lon_field, lat_field):
    try:
        with open(path, newline="", encoding="utf-8-sig") as handle:
            reader = csv.DictReader(handle)
            fields = list(reader.fieldnames or [])
            lon_key = _column(fields, lon_field, LON_NAMES, "longitude", "--lon-field")
            lat_key = _column(fields, lat_field, LAT_NAMES, "latitude", "--lat-field")
            rows = list(reader)
    except UnicodeDecodeError:
        raise PointFileError("%(name)s is not a UTF-8 text file.", name=path.name) from None
    except csv.Error as error:
        raise PointFileError("%(name)s is not a readable CSV file: %(error)s",
                             name=path.name, error=str(error)) from None
    xs = [_number(row.get(lon_key)) for row in rows]
    ys = [_number(row.get(lat_key)) for row in rows]
    return xs, ys, rows, fields


def _column(fields, wanted, defaults, meaning, option):
    """The header's name for ``wanted`` (or a usual name), whatever its case."""
    by_lower = {name.strip().lower(): name for name in fields}
    for name in ([wanted] if wanted else defaults):
        if name.strip().lower() in by_lower:
            return by_lower[name.strip().lower()]
    raise PointFileError(
        "The file has no %(meaning)s column %(wanted)s; its columns are: %(columns)s. "
        "Name it with %(option)s.", meaning=meaning,
        wanted=repr(wanted) if wanted else "(" + ", ".join(defaults) + ")",
        columns=", ".join(fields) or "none", option=option)


def _number(text):
    try:
        return float(text)
    except (TypeError, ValueError):
        return math.nan


def _read_geojson(path):
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, ValueError) as error:
        raise PointFileError("%(name)s is not valid GeoJSON: %(error)s",
                             name=path.name, error=str(error)) from None
    features = document.get("features") if isinstance(document, dict) else None
    if not isinstance(features, list):
        raise PointFileError("%(name)s is not a GeoJSON FeatureCollection.", name=path.name)
    xs, ys, rows = [], [], []
    for feature in features:
        x, y = _point_of(feature)
        properties = feature.get("properties") if isinstance(feature, dict) else None
        xs.append(x)
        ys.append(y)
        rows.append(properties if isinstance(properties, dict) else {})
    fields = sorted({key for row in rows for key in row})
    return xs, ys, rows, fields, _declared_crs(document)


def _point_of(feature):
    geometry = feature.get("geometry") if isinstance(feature, dict) else None
    if not isinstance(geometry, dict) or geometry.get("type") != "Point":
        return math.nan, math.nan
    position = geometry.get("coordinates")
    if not isinstance(position, list) or len(position) < 2:
        return math.nan, math.nan
    return _number(position[0]), _number(position[1])


def _declared_crs(document):
    """The CRS named by an old-style GeoJSON ``crs`` member, or None (RFC 7946: WGS 84)."""
    member = document.get("crs")
    if not isinstance(member, dict):
        return None
    name = (member.get("properties") or {}).get("name")
    return str(name) if name else None


def _to_app_crs(xs, ys, declared, crs, report):
    source = _parse_crs(declared) if declared else None
    if crs is not None:
        given = _parse_crs(crs)
        if source is not None and not source.equals(given):
            raise PointFileError(
                "%(name)s declares %(declared)s but --crs says %(crs)s: remove --crs or fix "
                "the file.", name=report.source, declared=declared, crs=crs)
        source = given
        report.source_crs = given.to_string()
    if source is None:
        _require_degrees(xs, ys, report.source)
        return xs, ys
    if source.equals(CRS.from_user_input(APP_CRS)) or source.equals(CRS.from_user_input(
            "OGC:CRS84")):
        return xs, ys
    report.reprojected = True
    transformer = Transformer.from_crs(source, APP_CRS, always_xy=True)
    return tuple(np.asarray(v, dtype=np.float64) for v in transformer.transform(xs, ys))


def _parse_crs(text):
    try:
        return CRS.from_user_input(text)
    except CRSError:
        raise PointFileError("%(crs)r is not a CRS that PROJ knows, e.g. EPSG:2229.",
                             crs=text) from None


def _require_degrees(xs, ys, source):
    """A file with no CRS must hold longitudes/latitudes: at least one row must be degrees."""
    degrees = (np.abs(xs) <= LON_RANGE[1]) & (np.abs(ys) <= LAT_RANGE[1])
    finite = np.isfinite(xs) & np.isfinite(ys)
    if finite.any() and not degrees[finite].any():
        raise PointFileError(
            "%(name)s declares no CRS and its coordinates (e.g. %(x).6g, %(y).6g) are not "
            "longitudes/latitudes. Pass the file's CRS with --crs, for example --crs "
            "EPSG:2229 for California state plane feet.",
            name=source, x=float(xs[finite][0]), y=float(ys[finite][0]))
