"""Routing benchmark: Router.route_many against the plain vectorized ways, and route() latency.

Run: .venv/bin/python bench/route_bench.py [--points 10000,100000,1000000] [--areas 50,500,5000]

Service areas are a grid of cells whose shared edges are jagged polylines (~200 vertices per
cell), over a city-sized extent; points are uniform over it. Every method answers the same
question (which area contains each point) on the same data in the same run.
"""

import argparse
import ctypes
import gc
import subprocess
import sys
import time
from pathlib import Path

import geopandas
import numpy as np
import shapely

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from measure import resident_kb  # noqa: E402

from geo.routing import Area, Router  # noqa: E402

EXTENT = (-118.7, 33.7, -118.1, 34.3)
SAMPLES_PER_EDGE = 50
JAG = 0.1  # amplitude of the jagged edges, as a share of the cell size
GRIDS = {50: (10, 5), 500: (25, 20), 5000: (100, 50)}


def wiggle(rng, count):
    """Offsets along an edge, zero at both ends, so edges meet only at the grid corners."""
    t = np.linspace(0.0, 1.0, count)
    return 4 * t * (1 - t) * rng.uniform(-1, 1, count) * JAG


def jagged_cells(nx, ny, seed=1):
    """A tiling of nx * ny cells with shared jagged edges (each edge drawn once)."""
    rng = np.random.default_rng(seed)
    minx, miny, maxx, maxy = EXTENT
    xs, ys = np.linspace(minx, maxx, nx + 1), np.linspace(miny, maxy, ny + 1)
    w, h = xs[1] - xs[0], ys[1] - ys[0]
    t = np.linspace(0.0, 1.0, SAMPLES_PER_EDGE)
    horizontal = {(i, j): np.column_stack([xs[i] + t * w, ys[j] + wiggle(rng, t.size) * h])
                  for i in range(nx) for j in range(ny + 1)}
    vertical = {(i, j): np.column_stack([xs[i] + wiggle(rng, t.size) * w, ys[j] + t * h])
                for i in range(nx + 1) for j in range(ny)}
    cells = []
    for i in range(nx):
        for j in range(ny):
            ring = np.concatenate([
                horizontal[i, j], vertical[i + 1, j][1:], horizontal[i, j + 1][::-1][1:],
                vertical[i, j][::-1][1:],
            ])
            cells.append(shapely.Polygon(ring))
    return np.array(cells, dtype=object)


def random_points(count, seed=2):
    rng = np.random.default_rng(seed)
    minx, miny, maxx, maxy = EXTENT
    return rng.uniform(minx, maxx, count), rng.uniform(miny, maxy, count)


def tree_within(polygons, tree, lons, lats):
    return tree.query(shapely.points(lons, lats), predicate="within")


def tree_reversed(polygons, tree, lons, lats):
    return shapely.STRtree(shapely.points(lons, lats)).query(polygons, predicate="contains")


def prepared_contains_xy(polygons, tree, lons, lats):
    found = np.full(lons.shape, -1)
    for index, (minx, miny, maxx, maxy) in enumerate(shapely.bounds(polygons)):
        candidates = np.flatnonzero((lons >= minx) & (lons <= maxx) & (lats >= miny)
                                    & (lats <= maxy))
        inside = shapely.contains_xy(polygons[index], lons[candidates], lats[candidates])
        found[candidates[inside]] = index
    return found


def sjoin(polygons, tree, lons, lats):
    points = geopandas.GeoDataFrame(geometry=geopandas.points_from_xy(lons, lats), crs=4326)
    areas = geopandas.GeoDataFrame(geometry=list(polygons), crs=4326)
    return geopandas.sjoin(points, areas, predicate="within", how="inner")


PLAIN = {
    "STRtree within": tree_within,
    "STRtree reversed": tree_reversed,
    "contains_xy bbox": prepared_contains_xy,
    "geopandas.sjoin": sjoin,
}


def best_time(function, *args, repeat=3):
    times = []
    for _ in range(repeat):
        gc.collect()
        start = time.perf_counter()
        function(*args)
        times.append(time.perf_counter() - start)
    return min(times)


def build_router(polygons):
    areas = [Area(i, f"s{i}", frozenset({"c"}), p) for i, p in enumerate(polygons)]
    return Router(areas, version=1)


def single_point_latency(router, count=20000):
    lons, lats = random_points(count, seed=3)
    samples = []
    clock = time.perf_counter_ns
    for lon, lat in zip(lons.tolist(), lats.tolist(), strict=True):
        start = clock()
        try:
            router.route(lon, lat, "c")
        except LookupError:
            pass
        samples.append(clock() - start)
    samples.sort()
    return samples[len(samples) // 2] / 1000, samples[int(len(samples) * 0.99)] / 1000




def router_build(polygons):
    start = time.perf_counter()
    router = build_router(polygons)
    return router, time.perf_counter() - start


def router_memory_mb(area_count):
    """RSS growth of a fresh process that parses the areas, builds their router and uses it."""
    output = subprocess.run(
        [sys.executable, __file__, "--memory-child", str(area_count)],
        check=True, capture_output=True, text=True,
    ).stdout
    return float(output)


def memory_child(area_count):
    """Counts the geometries, the STRtree, the grid and the prepared point locators.

    GEOS builds a polygon's point locator on its first test, so the router routes a batch
    of points before the second reading.
    """
    wkb = shapely.to_wkb(jagged_cells(*GRIDS[area_count]))
    before = retained_kb()
    router = build_router(shapely.from_wkb(wkb))
    router.route_many(*random_points(200_000, seed=4), "c")
    print(f"{(retained_kb() - before) / 1024:.1f}")
    return router


def retained_kb():
    """RSS once garbage is collected and freed heap is handed back to the system."""
    gc.collect()
    ctypes.CDLL("libc.so.6").malloc_trim(0)
    return resident_kb()


def run(area_counts, point_counts):
    print(f"{'areas':>5} {'points':>9}  {'route_many':>12}  " + "  ".join(
        f"{name:>16}" for name in PLAIN) + "  ratio to best plain")
    for area_count in area_counts:
        polygons = jagged_cells(*GRIDS[area_count])
        assert shapely.is_valid(polygons).all()
        shapely.prepare(polygons)
        tree = shapely.STRtree(polygons)
        router, build = router_build(polygons)
        for point_count in point_counts:
            lons, lats = random_points(point_count)
            ours = point_count / best_time(router.route_many, lons, lats, "c")
            plain = {name: point_count / best_time(f, polygons, tree, lons, lats)
                     for name, f in PLAIN.items()}
            best = max(plain.values())
            print(f"{area_count:>5} {point_count:>9}  {ours:>10,.0f}/s  " + "  ".join(
                f"{v:>14,.0f}/s" for v in plain.values()) + f"  {ours / best:.2f}x")
        p50, p99 = single_point_latency(router)
        vertices = int(sum(shapely.get_num_coordinates(polygons)) / len(polygons))
        print(f"      {area_count} areas (~{vertices} vertices each): route() p50 {p50:.1f} us, "
              f"p99 {p99:.1f} us; router build {build * 1000:.0f} ms, "
              f"router memory in use {router_memory_mb(area_count):.1f} MB")


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--areas", default="50,500,5000")
    parser.add_argument("--points", default="10000,100000,1000000")
    parser.add_argument("--memory-child", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.memory_child:
        memory_child(args.memory_child)
        return
    run([int(v) for v in args.areas.split(",")], [int(v) for v in args.points.split(",")])


if __name__ == "__main__":
    main()
