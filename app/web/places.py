"""The places API: address search as a resident types, and the address nearest a point.

Both answer RFC 7946 FeatureCollections of points, so a map library can draw them as they
come; the form's search box and other systems use them alike.
"""

from flask import Blueprint, jsonify, request

from app.errors import ValidationError
from app.reporting import places
from app.reporting.address_text import words
from app.web.db import get_db
from geo.coords import parse_lon_lat
from geo.errors import InvalidCoordinates

bp = Blueprint("places", __name__, url_prefix="/api/places")
DEFAULT_LIMIT = 10
CACHE_SECONDS = 60


@bp.get("")
def search():
    text = _query_text(request.args.get("q"))
    limit = _limit(request.args.get("limit"))
    near = _near(request.args.get("near"))
    found = places.default_gazetteer(get_db()).search(text, limit=limit, near=near)
    return _collection([_feature(p, score=round(p.score, 4)) for p in found])


@bp.get("/reverse")
def reverse():
    try:
        lon, lat = parse_lon_lat(request.args.get("lon"), request.args.get("lat"))
    except InvalidCoordinates as error:
        raise ValidationError.from_text(error) from None
    place = places.default_gazetteer(get_db()).nearest(lon, lat)
    features = [_feature(place, distance_m=round(place.distance_m, 1))] if place else []
    return _collection(features)


def _query_text(value):
    text = (value or "").strip()
    if not text:
        raise ValidationError("Type a street and number, or a place, to search for.")
    if len(text) > places.QUERY_MAX_LENGTH:
        raise ValidationError("The search is %(length)s characters long; the limit is "
                              "%(limit)s.", length=len(text), limit=places.QUERY_MAX_LENGTH)
    if not words(text):
        raise ValidationError("Type at least one letter or digit to search for a place.")
    return text


def _limit(value):
    if value is None or value == "":
        return DEFAULT_LIMIT
    if not value.strip().isdigit() or not 1 <= int(value) <= places.LIMIT_MAX:
        raise ValidationError("limit must be a whole number from 1 to %(max)s; got %(value)r.",
                              max=places.LIMIT_MAX, value=value[:20])
    return int(value)


def _near(value):
    if value is None or value == "":
        return None
    lon, comma, lat = value.partition(",")
    if not comma:
        raise ValidationError("near must be a longitude and a latitude separated by a comma, "
                              "e.g. near=-118.24,34.06; got %(value)r.", value=value[:40])
    try:
        return parse_lon_lat(lon, lat)
    except InvalidCoordinates as error:
        raise ValidationError.from_text(error) from None


def _feature(place, **properties):
    return {
        "type": "Feature",
        "geometry": {"type": "Point", "coordinates": [place.lon, place.lat]},
        "properties": {"address": place.address, **properties},
    }


def _collection(features):
    response = jsonify({"type": "FeatureCollection", "features": features})
    response.mimetype = "application/geo+json"
    response.cache_control.public = True
    response.cache_control.max_age = CACHE_SECONDS
    return response
