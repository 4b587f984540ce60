"""The nearest of many points for many places at once, within a distance in metres.

Reverse geocoding a whole table of reports one query at a time costs a round trip each;
this answers them all from one STRtree, in a local metric projection (equirectangular
around the middle latitude: within a city its scale error is a fraction of a percent),
then checks each answer's great-circle distance.
"""

import math

import numpy as np
import shapely

EARTH_RADIUS_M = 6_371_008.8
METRES_PER_DEGREE = math.pi * EARTH_RADIUS_M / 180
#: Slack on the projected search radius, so that no point within the great-circle radius is
#: missed by the projection's scale error (the exact check follows).
PROJECTION_SLACK = 1.02


def haversine_m(lon1, lat1, lon2, lat2):
    """Great-circle distances in metres between arrays of (lon, lat) in degrees.

    >>> round(float(haversine_m(0.0, 0.0, 0.0, 1.0)))
    111195
    """
    lon1, lat1, lon2, lat2 = (np.radians(np.asarray(v, dtype=np.float64))
                              for v in (lon1, lat1, lon2, lat2))
    a = (np.sin((lat2 - lat1) / 2) ** 2
         + np.cos(lat1) * np.cos(lat2) * np.sin((lon2 - lon1) / 2) ** 2)
    return 2 * EARTH_RADIUS_M * np.arcsin(np.minimum(1.0, np.sqrt(a)))


def nearest_within(point_lons, point_lats, lons, lats, max_m):
    """For each place (lons[i], lats[i]), the position of the nearest point within
    ``max_m`` great-circle metres (-1 where none) and its distance (NaN where none).

    Of equally near points, one is chosen.

    >>> found, metres = nearest_within([0.0, 0.001, 1.0], [0.0, 0.0, 0.0],
    ...                                [0.0009, 0.5], [0.0, 0.0], 150)
    >>> found.tolist(), [round(m) for m in metres[:1]]
    ([1, -1], [11])
    """
    point_lons, point_lats, lons, lats = (np.asarray(v, dtype=np.float64).ravel()
                                          for v in (point_lons, point_lats, lons, lats))
    found = np.full(lons.shape, -1, dtype=np.int64)
    metres = np.full(lons.shape, np.nan)
    if not point_lons.size or not lons.size:
        return found, metres
    scale = math.cos(math.radians(float(np.mean(lats))))
    tree = shapely.STRtree(_projected(point_lons, point_lats, scale))
    places, points = tree.query_nearest(_projected(lons, lats, scale),
                                        max_distance=max_m * PROJECTION_SLACK, all_matches=False)
    distances = haversine_m(lons[places], lats[places], point_lons[points], point_lats[points])
    close = distances <= max_m
    found[places[close]] = points[close]
    metres[places[close]] = distances[close]
    return found, metres


def _projected(lons, lats, scale):
    return shapely.points(lons * scale * METRES_PER_DEGREE, lats * METRES_PER_DEGREE)
