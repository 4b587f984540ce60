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

#: ``route_many`` scans polygon by polygon when there are at least this many points per
#: area, and uses the grid index otherwise: the crossover measured with bench/route_bench.py
#: (see docs/benchmarks.md).
SCAN_MIN_POINTS_PER_AREA = 200
#: The single-point index is a grid with about this many cells per area (capped below).
GRID_CELLS_PER_AREA = 16
GRID_MAX_CELLS = 1 << 18

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
        self.grid = _Grid(self.geoms, self.tree)

    def first_at(self, lon, lat):
        """Position of the winning area at one point, or ``NO_AREA``."""
        return self.grid.first_at(self.geoms, lon, lat)

    def first_many(self, lons, lats):
        """Positions of the winning areas for arrays of points (``NO_AREA`` where none)."""
        if lons.size >= SCAN_MIN_POINTS_PER_AREA * len(self.areas):
            return self._scan(lons, lats)
        return self.grid.first_many(self.geoms, lons, lats)

    def _scan(self, lons, lats):
        """Test each polygon, in rule order, on the unmatched points inside its bounding box.

        Points are sorted by longitude once, so each polygon's box is found by binary search
        instead of a comparison over every point.
        """
        order = np.argsort(lons, kind="stable")
        xs, ys = lons[order], lats[order]
        found = np.full(xs.shape, NO_AREA, dtype=np.int64)
        starts = np.searchsorted(xs, self.bounds[:, 0], side="left")
        stops = np.searchsorted(xs, self.bounds[:, 2], side="right")
        for position, (start, stop) in enumerate(zip(starts.tolist(), stops.tolist(),
                                                     strict=True)):
            if start == stop:
                continue
            _, miny, _, maxy = self.bounds[position]
            window = slice(start, stop)
            candidates = start + np.flatnonzero(
                (found[window] == NO_AREA) & (ys[window] >= miny) & (ys[window] <= maxy)
            )
            if candidates.size:
                inside = shapely.intersects_xy(
                    self.geoms[position], xs[candidates], ys[candidates]
                )
                found[candidates[inside]] = position
        result = np.empty_like(found)
        result[order] = found
        return result


class _Grid:
    """A uniform grid over the areas' bounds, for answering one point in microseconds.

    Each cell keeps the positions of the areas that touch it, in rule order. When the first
    of them covers the whole cell, that is the answer for every point in the cell and no
    geometry is tested; otherwise the candidates are tested in order. Cells are slightly
    enlarged, so a point that rounding puts in a neighbouring cell still finds its areas.
    """

    def __init__(self, geoms, tree):
        minx, miny, maxx, maxy = shapely.total_bounds(geoms)
        cells = min(GRID_MAX_CELLS, max(1, GRID_CELLS_PER_AREA * len(geoms)))
        width, height = max(maxx - minx, 1e-12), max(maxy - miny, 1e-12)
        self.nx = max(1, min(cells, round(np.sqrt(cells * width / height))))
        self.ny = max(1, min(cells, cells // self.nx))
        self.origin = (minx, miny)
        self.limit = (maxx, maxy)
        self.scale = (self.nx / width, self.ny / height)
        self.candidates, self.direct = self._index(geoms, tree, width / self.nx, height / self.ny)

    def _index(self, geoms, tree, cell_width, cell_height):
        ix, iy = np.meshgrid(np.arange(self.nx), np.arange(self.ny), indexing="ij")
        margin_x, margin_y = cell_width * 1e-6, cell_height * 1e-6
        x0 = self.origin[0] + ix.ravel() * cell_width - margin_x
        y0 = self.origin[1] + iy.ravel() * cell_height - margin_y
        boxes = shapely.box(x0, y0, x0 + cell_width + 2 * margin_x, y0 + cell_height + 2 * margin_y)
        cell, position = tree.query(boxes, predicate="intersects")
        order = np.lexsort((position, cell))
        cell, position = cell[order], position[order]
        self.offsets = np.searchsorted(cell, np.arange(boxes.size + 1))
        self.positions = position
        candidates = [[] for _ in range(boxes.size)]
        for c, p in zip(cell.tolist(), position.tolist(), strict=True):
            candidates[c].append(p)
        direct = np.full(boxes.size, NO_AREA, dtype=np.int64)
        first = np.flatnonzero(np.r_[True, cell[1:] != cell[:-1]]) if cell.size else cell
        covered = shapely.contains(geoms[position[first]], boxes[cell[first]])
        direct[cell[first][covered]] = position[first][covered]
        # The prepared 'contains' index is large and needed only here; routing itself needs
        # only the point locator, which GEOS rebuilds on first use.
        shapely.destroy_prepared(geoms)
        shapely.prepare(geoms)
        self.direct_array = direct
        return candidates, direct.tolist()

    def first_at(self, geoms, lon, lat):
        x, y = lon - self.origin[0], lat - self.origin[1]
        if x < 0 or y < 0 or lon > self.limit[0] or lat > self.limit[1]:
            return NO_AREA
        cell = min(int(x * self.scale[0]), self.nx - 1) * self.ny + min(
            int(y * self.scale[1]), self.ny - 1)
        answer = self.direct[cell]
        if answer != NO_AREA:
            return answer
        for position in self.candidates[cell]:
            if shapely.intersects_xy(geoms[position], lon, lat):
                return position
        return NO_AREA

    def first_many(self, geoms, lons, lats):
        """The same answer for arrays of points: direct cells first, then candidate tests."""
        result = np.full(lons.shape, NO_AREA, dtype=np.int64)
        in_bounds = np.flatnonzero(
            (lons >= self.origin[0]) & (lats >= self.origin[1])
            & (lons <= self.limit[0]) & (lats <= self.limit[1])
        )
        cells = self._cells(lons[in_bounds], lats[in_bounds])
        direct = self.direct_array[cells]
        answered = direct != NO_AREA
        result[in_bounds[answered]] = direct[answered]
        points, cells = in_bounds[~answered], cells[~answered]
        counts = self.offsets[cells + 1] - self.offsets[cells]
        pair_points = np.repeat(points, counts)
        first_pair = np.repeat(np.cumsum(counts) - counts, counts)
        pair_slots = (
            np.repeat(self.offsets[cells], counts) + np.arange(pair_points.size) - first_pair
        )
        pair_positions = self.positions[pair_slots]
        hit = shapely.intersects_xy(geoms[pair_positions], lons[pair_points], lats[pair_points])
        best = np.full(lons.shape, np.iinfo(np.int64).max, dtype=np.int64)
        np.minimum.at(best, pair_points[hit], pair_positions[hit])
        matched = best != np.iinfo(np.int64).max
        result[matched] = best[matched]
        return result

    def _cells(self, lons, lats):
        ix = np.minimum(((lons - self.origin[0]) * self.scale[0]).astype(np.int64), self.nx - 1)
        iy = np.minimum(((lats - self.origin[1]) * self.scale[1]).astype(np.int64), self.ny - 1)
        return ix * self.ny + iy


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
        self._listed = list(self.areas.values())
        self._tree = shapely.STRtree([area.geometry for area in self._listed])

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
        result = np.full(lons.shape, NO_AREA, dtype=np.int64)
        for category, selected in _group_by_category(categories, lons.size):
            index = self._by_category.get(category)
            if index is None:
                continue
            positions = index.first_many(lons[selected], lats[selected])
            found = positions != NO_AREA
            result[selected[found]] = index.ids[positions[found]]
        return result

    def covers_many(self, lons, lats):
        """Whether each point is inside at least one area (any category), as a bool array.

        >>> from shapely import box
        >>> router = Router([Area(1, "roads", frozenset({"pothole"}), box(0, 0, 1, 1))], 1)
        >>> router.covers_many([0.5, 2.0], [0.5, 0.5]).tolist()
        [True, False]
        """
        lons, lats = _checked_arrays(lons, lats)
        covered = np.zeros(lons.shape, dtype=bool)
        for index in self._by_category.values():  # the vectorized routing, category by category
            todo = np.flatnonzero(~covered)
            if not todo.size:
                break
            covered[todo[index.first_many(lons[todo], lats[todo]) != NO_AREA]] = True
        return covered

    def categories_at(self, lon, lat):
        """The categories handled at a point, sorted; empty outside every area."""
        lon, lat = parse_lon_lat(lon, lat)
        hits = self._tree.query(shapely.Point(lon, lat), predicate="intersects")
        return sorted({c for p in hits.tolist() for c in self._listed[p].categories})


def _group_by_category(categories, count):
    """Yield (category, indices of its points), without sorting when all points share one."""
    if isinstance(categories, str):
        yield categories, np.arange(count)
        return
    codes, inverse = np.unique(np.asarray(categories).astype(str), return_inverse=True)
    if codes.size and inverse.size != count:
        raise ValueError(f"{inverse.size} categories for {count} points.")
    order = np.argsort(inverse, kind="stable")
    bounds = np.searchsorted(inverse[order], np.arange(codes.size + 1))
    for number, code in enumerate(codes.tolist()):
        yield code, order[bounds[number]:bounds[number + 1]]


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


def covers_point(geometry_wkb, lon, lat):
    """Whether a stored area (WKB) holds the point, its boundary included, as routing does.

    >>> square = shapely.box(0, 0, 1, 1).wkb
    >>> covers_point(square, 1.0, 0.5), covers_point(square, 1.5, 0.5)
    (True, False)
    """
    lon, lat = parse_lon_lat(lon, lat)
    return bool(shapely.intersects_xy(shapely.from_wkb(geometry_wkb), lon, lat))
