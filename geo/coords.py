"""Parsing and checking of (lon, lat) coordinates.

Axis order is (lon, lat) everywhere, as in GeoJSON and shapely.
"""

import math

from geo.errors import InvalidCoordinates

LON_RANGE = (-180.0, 180.0)
LAT_RANGE = (-90.0, 90.0)


def parse_coordinate(value, name, low, high):
    """Return ``value`` as a finite float within ``[low, high]``.

    Parameters
    ----------
    value : str, int or float
        What the client sent; ``None`` and ``""`` count as missing.
    name : str
        "longitude" or "latitude", used in the error message.
    low, high : float
        The accepted range, bounds included.

    Raises
    ------
    InvalidCoordinates
        With a message naming the bad value.

    Examples
    --------
    >>> parse_coordinate(" 2.35 ", "longitude", -180, 180)
    2.35
    >>> parse_coordinate("nan", "latitude", -90, 90)
    Traceback (most recent call last):
    ...
    geo.errors.InvalidCoordinates: The latitude 'nan' is not a finite number.
    """
    if value is None or (isinstance(value, str) and not value.strip()):
        raise InvalidCoordinates("The %(name)s is missing: place the pin on the map.", name=name)
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise InvalidCoordinates("The %(name)s %(value)r is not a number.",
                                 name=name, value=value) from None
    if not math.isfinite(number):
        raise InvalidCoordinates("The %(name)s %(value)r is not a finite number.",
                                 name=name, value=value)
    if not low <= number <= high:
        raise InvalidCoordinates(
            "The %(name)s %(number)s is out of range: it must be between %(low)s and %(high)s.",
            name=name, number=number, low=f"{low:g}", high=f"{high:g}",
        )
    return number


def parse_lon_lat(lon, lat):
    """Return ``(lon, lat)`` as floats, or raise :class:`InvalidCoordinates`.

    Examples
    --------
    >>> parse_lon_lat("-118.25", "34.05")
    (-118.25, 34.05)
    >>> parse_lon_lat(0, 91)
    Traceback (most recent call last):
    ...
    geo.errors.InvalidCoordinates: The latitude 91.0 is out of range: it must be between -90 and 90.
    """
    return (
        parse_coordinate(lon, "longitude", *LON_RANGE),
        parse_coordinate(lat, "latitude", *LAT_RANGE),
    )


def plausible_lonlat_bounds(bounds):
    """Tell whether ``(minx, miny, maxx, maxy)`` could be degrees of longitude and latitude.

    Projected coordinates (metres, US survey feet) are far larger than 180, so a file without a
    CRS whose bounds fail this test is not in EPSG:4326.

    Examples
    --------
    >>> plausible_lonlat_bounds((-118.7, 33.7, -118.1, 34.3))
    True
    >>> plausible_lonlat_bounds((6_400_000.0, 1_700_000.0, 6_600_000.0, 1_900_000.0))
    False
    """
    minx, miny, maxx, maxy = bounds
    finite = all(math.isfinite(v) for v in bounds)
    return (
        finite
        and LON_RANGE[0] <= minx <= maxx <= LON_RANGE[1]
        and LAT_RANGE[0] <= miny <= maxy <= LAT_RANGE[1]
    )


METRES_PER_DEGREE_LAT = 111_320.0


def bbox_around(lon, lat, radius_m):
    """A (min_lon, min_lat, max_lon, max_lat) box that contains the circle of ``radius_m``.

    For filtering by index before an exact distance test; clipped to the valid ranges.

    >>> [round(v, 5) for v in bbox_around(0.0, 0.0, 111.32)]
    [-0.001, -0.001, 0.001, 0.001]
    """
    dlat = radius_m / METRES_PER_DEGREE_LAT
    dlon = radius_m / (METRES_PER_DEGREE_LAT * max(0.01, math.cos(math.radians(lat))))
    return (max(-180.0, lon - dlon), max(-90.0, lat - dlat), min(180.0, lon + dlon),
            min(90.0, lat + dlat))
