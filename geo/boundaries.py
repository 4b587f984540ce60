"""Reading and validating service-area boundary files.

GeoJSON, zipped Shapefile and GeoPackage are read with geopandas (pyogrio), reprojected to
EPSG:4326 and checked. We are stricter than geopandas: a file with no CRS is accepted only
when its coordinates are plausible longitudes/latitudes, and anything that is not a polygon
is refused rather than skipped.
"""

import math
from dataclasses import dataclass, field
from pathlib import Path

import geopandas
import numpy as np
import shapely
from pyproj import CRS
from pyproj.exceptions import CRSError

from geo.coords import plausible_lonlat_bounds
from geo.errors import BoundaryFileError

APP_CRS = "EPSG:4326"
#: Equal-area projection used to measure areas and overlaps in square metres.
EQUAL_AREA_CRS = "EPSG:6933"
#: Overlaps smaller than this (digitising noise along shared edges) are not reported.
OVERLAP_TOLERANCE_M2 = 1.0
POLYGONAL = {"Polygon", "MultiPolygon"}


@dataclass
class BoundaryFeature:
    """One area of a boundary file: its attributes, its (multi)polygon and its size in m²."""

    properties: dict
    geometry: shapely.Geometry
    size_m2: float


@dataclass
class LoadReport:
    """What happened while reading a boundary file, for the person who loads it."""

    source: str
    source_crs: str
    features_read: int = 0
    empty_dropped: int = 0
    repaired: int = 0
    reprojected: bool = False
    overlaps: list = field(default_factory=list)
    bounds: tuple = ()

    @property
    def overlap_area_m2(self):
        return sum(area for _, _, area in self.overlaps)

    def lines(self):
        """The report as short lines of text, as the CLI prints it."""
        lines = [
            f"file: {self.source}",
            f"features read: {self.features_read}",
            f"empty geometries dropped: {self.empty_dropped}",
            f"invalid geometries repaired: {self.repaired}",
            f"CRS: {self.source_crs}"
            + (f" (reprojected to {APP_CRS})" if self.reprojected else ""),
            f"overlaps between areas: {len(self.overlaps)}"
            f" ({self.overlap_area_m2 / 1e6:.3f} km² in total)",
        ]
        if self.bounds:
            minx, miny, maxx, maxy = self.bounds
            lines.append(f"bounds (lon, lat): {minx:.5f}, {miny:.5f} to {maxx:.5f}, {maxy:.5f}")
        return lines


@dataclass
class BoundaryLayer:
    """The usable features of a boundary file and the report of how they were obtained."""

    features: list
    report: LoadReport

    @property
    def fields(self):
        return sorted({key for feature in self.features for key in feature.properties})


def read_boundaries(path, crs=None):
    """Read a boundary file into validated (multi)polygons in EPSG:4326.

    Parameters
    ----------
    path : str or Path
        A GeoJSON, zipped Shapefile (``.zip``) or GeoPackage file.
    crs : str, optional
        The CRS of a file that does not declare one, e.g. ``"EPSG:2229"``.

    Returns
    -------
    BoundaryLayer

    Raises
    ------
    BoundaryFileError
        When the file cannot be read, has no usable polygon, has non-polygon geometries, or
        has coordinates that are not longitudes/latitudes and no CRS to say what they are.

    Examples
    --------
    >>> import json, tempfile
    >>> square = {"type": "Polygon", "coordinates": [[[0, 0], [1, 0], [1, 1], [0, 1], [0, 0]]]}
    >>> feature = {"type": "Feature", "properties": {"name": "A"}, "geometry": square}
    >>> with tempfile.NamedTemporaryFile("w", suffix=".geojson", delete=False) as f:
    ...     json.dump({"type": "FeatureCollection", "features": [feature]}, f)
    >>> layer = read_boundaries(f.name)
    >>> (len(layer.features), layer.features[0].properties["name"], layer.report.repaired)
    (1, 'A', 0)
    """
    path = Path(path)
    frame = _read_frame(path)
    report = LoadReport(source=path.name, source_crs=_crs_name(frame.crs), features_read=len(frame))
    frame = _to_app_crs(frame, crs, report)
    frame = _drop_empty(frame, report)
    _reject_non_polygons(frame)
    frame = _repair_invalid(frame, report)
    if frame.empty:
        raise BoundaryFileError(f"{path.name} contains no usable polygon.")
    sizes = frame.geometry.to_crs(EQUAL_AREA_CRS).area.to_numpy()
    report.overlaps = _overlaps(frame.geometry.to_crs(EQUAL_AREA_CRS).to_numpy())
    report.bounds = tuple(float(v) for v in frame.total_bounds)
    features = [
        BoundaryFeature(props, geometry, float(size))
        for props, geometry, size in zip(
            _properties(frame), frame.geometry.to_numpy(), sizes, strict=True
        )
    ]
    return BoundaryLayer(features, report)


def _read_frame(path):
    if not path.is_file():
        raise BoundaryFileError(f"{path} does not exist or is not a file.")
    try:
        return geopandas.read_file(path, engine="pyogrio")
    except Exception as error:  # pyogrio raises several unrelated types for unreadable files
        raise BoundaryFileError(f"{path.name} cannot be read as a boundary file: {error}") from None


def _crs_name(crs):
    if crs is None:
        return "none declared"
    return crs.to_string()


def _to_app_crs(frame, crs, report):
    """Reproject to EPSG:4326, refusing coordinates whose meaning is unknown.

    GeoJSON readers assume EPSG:4326 when a file says nothing, so a geographic CRS whose
    coordinates are not plausible degrees is treated like no CRS at all.
    """
    bounds = tuple(frame.total_bounds) if len(frame) else (0.0, 0.0, 0.0, 0.0)
    degrees = plausible_lonlat_bounds(bounds)
    declared = frame.crs
    unknown = declared is None or (declared.is_geographic and not degrees)
    if crs is not None:
        given = _parse_crs(crs)
        if not unknown and not declared.equals(given):
            raise BoundaryFileError(
                f"{report.source} declares {declared.to_string()} but --crs says {crs}: "
                "remove --crs or fix the file."
            )
        frame = frame.set_crs(given, allow_override=True)
        report.source_crs = given.to_string()
    elif unknown:
        if not degrees:
            raise BoundaryFileError(
                f"{report.source} declares no usable CRS and its coordinates "
                f"(x {bounds[0]:.6g} to {bounds[2]:.6g}, y {bounds[1]:.6g} to {bounds[3]:.6g}) "
                "are not plausible longitudes/latitudes. Pass the file's CRS with --crs, "
                "for example --crs EPSG:2229 for California state plane feet."
            )
        frame = frame.set_crs(APP_CRS, allow_override=True)
    if frame.crs.equals(CRS.from_user_input(APP_CRS)):
        return frame
    report.reprojected = True
    return frame.to_crs(APP_CRS)


def _parse_crs(crs):
    try:
        return CRS.from_user_input(crs)
    except CRSError:
        raise BoundaryFileError(f"{crs!r} is not a CRS that PROJ knows, e.g. EPSG:2229.") from None


def _drop_empty(frame, report):
    empty = frame.geometry.isna() | frame.geometry.is_empty
    report.empty_dropped = int(empty.sum())
    return frame[~empty]


def _reject_non_polygons(frame):
    kinds = frame.geometry.geom_type.to_numpy()
    bad = np.flatnonzero(~np.isin(kinds, list(POLYGONAL)))
    if bad.size:
        examples = ", ".join(f"feature {i} is a {kinds[i]}" for i in bad[:3])
        raise BoundaryFileError(
            f"Service areas must be polygons, but {bad.size} are not ({examples})."
        )


def _repair_invalid(frame, report):
    """Repair invalid polygons with make_valid, keeping only their polygonal parts."""
    invalid = ~frame.geometry.is_valid.to_numpy()
    report.repaired = int(invalid.sum())
    if not report.repaired:
        return frame
    frame = frame.copy()
    repaired = [_polygonal_part(g) for g in shapely.make_valid(frame.geometry.to_numpy()[invalid])]
    frame.loc[frame.index[invalid], "geometry"] = repaired
    return frame[~frame.geometry.is_empty]


def _polygonal_part(geometry):
    if geometry.geom_type in POLYGONAL:
        return geometry
    parts = [g for g in shapely.get_parts(geometry) if g.geom_type in POLYGONAL]
    return shapely.union_all(parts) if parts else shapely.Polygon()


def _overlaps(geometries):
    """Pairs of areas (by position) that overlap by more than the tolerance, with m²."""
    tree = shapely.STRtree(geometries)
    left, right = tree.query(geometries, predicate="intersects")
    pairs = left < right
    left, right = left[pairs], right[pairs]
    if not left.size:
        return []
    areas = shapely.area(shapely.intersection(geometries[left], geometries[right]))
    return [
        (int(i), int(j), float(a))
        for i, j, a in zip(left, right, areas, strict=True)
        if a > OVERLAP_TOLERANCE_M2
    ]


def _properties(frame):
    """Attribute rows as plain Python values (NaN becomes None)."""
    rows = frame.drop(columns=frame.geometry.name).to_dict("records")
    return [{key: _plain(value) for key, value in row.items()} for row in rows]


def _plain(value):
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and math.isnan(value):
        return None
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return value
