"""Routing on shapes you can draw on paper, then property tests."""

import math

import numpy as np
import pytest
import shapely
from hypothesis import given
from hypothesis import strategies as st

from geo.errors import InvalidCoordinates, OutsideServiceArea
from geo.routing import Area, Router

A = shapely.box(0, 0, 1, 1)
B_WITH_HOLE = shapely.Polygon(
    [(1, 0), (2, 0), (2, 1), (1, 1)], holes=[[(1.4, 0.4), (1.6, 0.4), (1.6, 0.6), (1.4, 0.6)]]
)
POINTS = {
    "inside_a": (0.5, 0.5),
    "inside_b": (1.8, 0.5),
    "on_shared_edge": (1.0, 0.5),
    "on_shared_vertex": (1.0, 1.0),
    "on_outer_edge_a": (0.0, 0.5),
    "in_hole": (1.5, 0.5),
    "on_hole_edge": (1.4, 0.5),
    "outside": (3.0, 3.0),
}
EXPECTED = {
    "inside_a": 1,
    "inside_b": 2,
    "on_shared_edge": 2,  # B is smaller (it has a hole), so it wins at equal priority
    "on_shared_vertex": 2,
    "on_outer_edge_a": 1,
    "in_hole": None,
    "on_hole_edge": 2,
    "outside": None,
}


def areas(priority_a=0, size_a=None, size_b=None):
    return [
        Area(1, "roads", frozenset({"pothole"}), A, priority=priority_a, size=size_a),
        Area(2, "parks", frozenset({"pothole", "graffiti"}), B_WITH_HOLE, size=size_b),
    ]


@pytest.fixture(params=["single", "many-scan", "many-grid"])
def route(request, monkeypatch):
    """The same question asked three ways: route(), and route_many() with each strategy."""
    points_per_area = {"many-scan": 0, "many-grid": 10**9}.get(request.param)
    if points_per_area is not None:
        monkeypatch.setattr("geo.routing.SCAN_MIN_POINTS_PER_AREA", points_per_area)

    def ask(router, point, category="pothole"):
        if request.param == "single":
            try:
                return router.route(*point, category).area_id
            except OutsideServiceArea:
                return None
        found = router.route_many([point[0]], [point[1]], category)[0]
        return None if found == -1 else int(found)

    return ask


@pytest.mark.parametrize("name", POINTS)
def test_named_points(route, name):
    assert route(Router(areas(), version=1), POINTS[name]) == EXPECTED[name]


def test_edge_answer_does_not_depend_on_area_order(route):
    for ordering in (areas(), list(reversed(areas()))):
        assert route(Router(ordering, version=1), POINTS["on_shared_edge"]) == 2


def test_higher_priority_wins_over_smaller_area(route):
    assert route(Router(areas(priority_a=5), 1), POINTS["on_shared_edge"]) == 1


def test_smaller_area_wins_at_equal_priority(route):
    assert route(Router(areas(size_a=0.5), 1), POINTS["on_shared_edge"]) == 1


def test_lower_id_wins_at_equal_priority_and_size(route):
    assert route(Router(areas(size_a=1.0, size_b=1.0), 1), POINTS["on_shared_vertex"]) == 1


def test_category_not_handled_is_outside(route):
    assert route(Router(areas(), 1), POINTS["inside_a"], "graffiti") is None
    assert route(Router(areas(), 1), POINTS["inside_a"], "unknown") is None


def test_match_carries_version_and_service():
    match = Router(areas(), version=42).route(0.5, 0.5, "pothole")
    assert (match.version, match.service, match.area.name) == (42, "roads", "")


def test_categories_at():
    router = Router(areas(), 1)
    assert router.categories_at(1.0, 0.5) == ["graffiti", "pothole"]
    assert router.categories_at(1.5, 0.5) == []


def test_route_many_matches_route_on_a_grid():
    router = Router(areas(), 1)
    xs, ys = np.meshgrid(np.linspace(-0.5, 2.5, 61), np.linspace(-0.5, 1.5, 41))
    many = router.route_many(xs.ravel(), ys.ravel(), "pothole")
    for x, y, found in zip(xs.ravel(), ys.ravel(), many, strict=True):
        try:
            expected = router.route(x, y, "pothole").area_id
        except OutsideServiceArea:
            expected = -1
        assert found == expected, (x, y)


def test_route_many_with_one_category_per_point():
    router = Router(areas(), 1)
    found = router.route_many([0.5, 0.5, 1.8], [0.5, 0.5, 0.5], ["pothole", "graffiti", "graffiti"])
    assert found.tolist() == [1, -1, 2]


@pytest.mark.parametrize(("lons", "lats"), [([math.nan], [0]), ([0], [math.inf]), ([200], [0]),
                                            ([0, 1], [0]), (["x"], [0])])
def test_route_many_refuses_bad_coordinates(lons, lats):
    with pytest.raises(InvalidCoordinates):
        Router(areas(), 1).route_many(lons, lats, "pothole")


def test_empty_router_routes_nothing():
    router = Router([], version=0)
    with pytest.raises(OutsideServiceArea):
        router.route(0.5, 0.5, "pothole")
    assert router.route_many([0.5], [0.5], "pothole").tolist() == [-1]
    assert router.categories_at(0.5, 0.5) == []


@given(st.floats(), st.floats())
def test_any_float_gives_a_match_or_a_typed_error(lon, lat):
    router = Router(areas(), 1)
    try:
        router.route(lon, lat, "pothole")
    except (OutsideServiceArea, InvalidCoordinates):
        pass


@given(st.floats(0.001, 0.999), st.floats(0.001, 0.999))
def test_point_inside_exactly_one_area_routes_to_it(lon, lat):
    assert Router(areas(), 1).route(lon, lat, "pothole").area_id == 1
