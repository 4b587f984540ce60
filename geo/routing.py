"""Routing by spatial join: which service area receives a report.

The rule, applied among the areas that handle the report's category and contain the point
(boundary included): the highest priority wins, then the smallest area, then the lowest id.
Because the boundary counts as inside, a point exactly on an edge or vertex shared by two
areas belongs to both, and the rule picks the same one every time.
"""

from dataclasses import dataclass

import numpy as np
import shapely

from geo.coords import parse_lon_lat
from geo.errors import InvalidCoordinates, OutsideServiceArea

#: Up to this many areas in a category, ``route_many`` scans polygon by polygon after a
#: bounding-box filter; above it, it queries an STRtree. The crossover was measured with
#: bench/route_bench.py (see docs/benchmarks.md).
SCAN_LIMIT = 96

NO_AREA = -1


@dataclass(frozen=True)
class Area:
    """A service area as the router sees it.

    ``size`` is the area in square metres used by the tie rule; when it is not given the
    planar area of ``geometry`` is used, which orders nearby shapes the same way.
    """

    id: int
    service: str
    categories: frozenset
    geometry: shapely.Geometry
    priority: int = 0
    size: float | None = None
    name: str = ""

    def rank_key(self):
        size = self.geometry.area if self.size is None else self.size
        return (-self.priority, size, self.id)


@dataclass(frozen=True)
class Match:
    """The area a point was routed to, and the boundary version that decided it."""

    area: Area
    version: int

    @property
    def service(self):
        return self.area.service

    @property
    def area_id(self):
        return self.area.id


class _CategoryIndex:
    """The areas handling one category, sorted so that position 0 wins every tie."""

    def __init__(self, areas):
        self.areas = sorted(areas, key=Area.rank_key)
        self.ids = np.array([area.id for area in self.areas], dtype=np.int64)
        self.geoms = np.array([area.geometry for area in self.areas], dtype=object)
        shapely.prepare(self.geoms)
        self.bounds = shapely.bounds(self.geoms)
        self.tree = shapely.STRtree(self.geoms)

    def first_at(self, lon, lat):
        """Position of the winning area at one point, or ``NO_AREA``."""
        for position in np.sort(self.tree.query(shapely.Point(lon, lat))):
            if shapely.intersects_xy(self.geoms[position], lon, lat):
                return int(position)
        return NO_AREA

    def first_many(self, lons, lats):
        """Positions of the winning areas for arrays of points (``NO_AREA`` where none)."""
        if len(self.areas) <= SCAN_LIMIT:
            return self._scan(lons, lats)
        return self._query_tree(lons, lats)

    def _scan(self, lons, lats):
        """Few areas: test each polygon, in rule order, on the points still unmatched."""
        result = np.full(lons.shape, NO_AREA, dtype=np.int64)
        for position, (minx, miny, maxx, maxy) in enumerate(self.bounds):
            candidates = np.flatnonzero(
                (result == NO_AREA) & (lons >= minx) & (lons <= maxx)
                & (lats >= miny) & (lats <= maxy)
            )
            if candidates.size:
                inside = shapely.intersects_xy(
                    self.geoms[position], lons[candidates], lats[candidates]
                )
                result[candidates[inside]] = position
        return result

    def _query_tree(self, lons, lats):
        """Many areas: bounding boxes from the STRtree, then prepared point-in-polygon tests."""
        points_index, positions = self.tree.query(shapely.points(lons, lats))
        inside = shapely.intersects_xy(
            self.geoms[positions], lons[points_index], lats[points_index]
        )
        best = np.full(lons.shape, np.iinfo(np.int64).max, dtype=np.int64)
        np.minimum.at(best, points_index[inside], positions[inside])
        best[best == np.iinfo(np.int64).max] = NO_AREA
        return best


class Router:
    """Routes points to service areas; built once per boundary version.

    Parameters
    ----------
    areas : iterable of Area
        The areas in force for ``version``.
    version : int
        The boundary version these areas belong to; every :class:`Match` carries it.

    Examples
    --------
    >>> from shapely import box
    >>> router = Router([
    ...     Area(1, "roads", frozenset({"pothole"}), box(0, 0, 1, 1)),
    ...     Area(2, "roads", frozenset({"pothole"}), box(1, 0, 2, 1)),
    ... ], version=7)
    >>> match = router.route(1.0, 0.5, "pothole")   # on the shared edge: same answer always
    >>> (match.area_id, match.service, match.version)
    (1, 'roads', 7)
    >>> router.route_many([0.5, 1.5, 9.0], [0.5, 0.5, 9.0], "pothole").tolist()
    [1, 2, -1]
    """

    def __init__(self, areas, version):
        self.version = version
        self.areas = {area.id: area for area in areas}
        categories = sorted({c for area in self.areas.values() for c in area.categories})
        self._by_category = {
            category: _CategoryIndex(a for a in self.areas.values() if category in a.categories)
            for category in categories
        }
        self._all = _CategoryIndex(self.areas.values()) if self.areas else None

    @property
    def categories(self):
        """Every category handled somewhere, sorted."""
        return list(self._by_category)

    def route(self, lon, lat, category):
        """Return the :class:`Match` for one report.

        Raises
        ------
        InvalidCoordinates
            When ``lon``/``lat`` are not finite numbers in range.
        OutsideServiceArea
            When no area handles ``category`` at that point.
        """
        lon, lat = parse_lon_lat(lon, lat)
        index = self._by_category.get(category)
        position = NO_AREA if index is None else index.first_at(lon, lat)
        if position == NO_AREA:
            raise OutsideServiceArea(
                f"No service area handles {category!r} at longitude {lon}, latitude {lat}."
            )
        return Match(index.areas[position], self.version)

    def route_many(self, lons, lats, categories):
        """Route arrays of points at once; return the area id of each, ``-1`` where none.

        ``categories`` is one category for all points or an array with one per point. The
        work is vectorized per category: there is no Python loop over points.
        """
        lons, lats = _checked_arrays(lons, lats)
        categories = np.broadcast_to(np.asarray(categories, dtype=object), lons.shape)
        result = np.full(lons.shape, NO_AREA, dtype=np.int64)
        for category in np.unique(categories.astype(str)):
            index = self._by_category.get(category)
            if index is None:
                continue
            selected = np.flatnonzero(categories == category)
            positions = index.first_many(lons[selected], lats[selected])
            found = positions != NO_AREA
            result[selected[found]] = index.ids[positions[found]]
        return result

    def categories_at(self, lon, lat):
        """The categories handled at a point, sorted; empty outside every area."""
        lon, lat = parse_lon_lat(lon, lat)
        if self._all is None:
            return []
        hits = self._all.tree.query(shapely.Point(lon, lat), predicate="intersects")
        return sorted({c for p in hits for c in self._all.areas[p].categories})


def _checked_arrays(lons, lats):
    """Both coordinate arrays as float64, or :class:`InvalidCoordinates` naming a bad value."""
    try:
        lons = np.asarray(lons, dtype=np.float64).ravel()
        lats = np.asarray(lats, dtype=np.float64).ravel()
    except (TypeError, ValueError) as error:
        raise InvalidCoordinates(f"Coordinates must be numbers: {error}") from None
    if lons.shape != lats.shape:
        raise InvalidCoordinates(f"{lons.size} longitudes but {lats.size} latitudes.")
    for values, name, limit in ((lons, "longitude", 180.0), (lats, "latitude", 90.0)):
        bad = np.flatnonzero(~(np.abs(values) <= limit))
        if bad.size:
            raise InvalidCoordinates(
                f"The {name} at position {bad[0]} ({values[bad[0]]}) is not a number "
                f"between {-limit:g} and {limit:g}."
            )
    return lons, lats
