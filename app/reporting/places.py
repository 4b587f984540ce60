"""Finding places: address search as a resident types, and the nearest address to a point.

Everything that needs a place goes through the small :class:`Gazetteer` interface, so a city
can later point to its own geocoder; :class:`LocalGazetteer` (the database's full-text and
spatial indexes, no service to run) is the default.
"""

from dataclasses import dataclass
from typing import Protocol

import numpy as np

from app.reporting.address_text import SPELLED_OUT, is_house_number, spelled_out, words
from app.storage import distance_m
from app.storage import places as place_rows
from geo.coords import bbox_around
from geo.nearest import nearest_within

REVERSE_MAX_M = 150.0
QUERY_MAX_LENGTH = 200
LIMIT_MAX = 50
#: Streets read from the full-text index per search, before ranking by our own score.
CANDIDATE_STREETS = 200
#: Streets listed after the addresses with the house number asked for (in index order: the
#: words alone rank them, the score sorts them).
STREETS_BESIDE_NUMBERS = 20
#: Streets on which a house number the gazetteer lacks is placed between its neighbours.
STREETS_TO_PLACE_ON = 3
#: Weights of a result's score (0..1): how much of the street name the words cover, whether
#: they also named the locality, and whether the house number is the one asked for.
NAME_WEIGHT, LOCALITY_WEIGHT, NUMBER_WEIGHT = 0.6, 0.1, 0.3
#: A house number placed between the street's known numbers counts for less than one found.
PLACED_NUMBER_WEIGHT = 0.2


@dataclass(frozen=True)
class Place:
    """A point with its address; ``score`` for a search result, ``distance_m`` for nearest."""

    address: str
    lon: float
    lat: float
    score: float | None = None
    distance_m: float | None = None


class Gazetteer(Protocol):
    """What the app asks of a geocoder."""

    def search(self, text, limit=10, near=None):
        """Places matching ``text`` best first; ``near`` (lon, lat) breaks ties by distance."""

    def nearest(self, lon, lat, max_m=REVERSE_MAX_M):
        """The nearest address point within ``max_m`` great-circle metres, or None."""


def default_gazetteer(db):
    """The gazetteer this installation uses: the local one."""
    return LocalGazetteer(db)


def address_at(db, lon, lat):
    """The address a report at (lon, lat) gets: the nearest one within 150 m, or None."""
    place = default_gazetteer(db).nearest(lon, lat)
    return place.address if place else None


@dataclass(frozen=True)
class Query:
    """A search split into the house number and the terms that must match a street."""

    number: str
    terms: list
    last_is_prefix: bool

    @classmethod
    def parse(cls, text):
        """The number is the first number-like word when other words name the street.

        >>> Query.parse("977 N Hill")
        Query(number='977', terms=['north', 'hill'], last_is_prefix=True)
        >>> Query.parse("Hill St ")
        Query(number='', terms=['hill', 'street'], last_is_prefix=False)
        """
        found = words(text)
        numbers = [w for w in found if is_house_number(w)]
        number = numbers[0] if numbers and len(found) > 1 else ""
        rest = list(found)
        if number:
            rest.remove(number)
        prefix = bool(rest) and text.rstrip() == text and rest[-1] == found[-1]
        return cls(number, [spelled_out(w) if not (prefix and i == len(rest) - 1) else w
                            for i, w in enumerate(rest)], prefix)

    def groups(self):
        """The words a street must hold, one of each group: every term, the last one also
        as a prefix while typing (and spelled out when it is an abbreviation).

        >>> Query.parse("977 n hil").groups()
        [[('north', False)], [('hil', True)]]
        >>> Query.parse("hill n").groups()
        [[('hill', False)], [('n', True), ('north', False)]]
        """
        groups = [[(term, False)] for term in self.terms]
        if self.last_is_prefix:
            last = self.terms[-1]
            groups[-1] = [(last, True)] + ([(SPELLED_OUT[last], False)]
                                           if last in SPELLED_OUT else [])
        return groups

    def matches(self, token):
        """Whether a stored word is one the query names."""
        for position, term in enumerate(self.terms):
            last = self.last_is_prefix and position == len(self.terms) - 1
            if token == term or (last and (token.startswith(term)
                                           or token == SPELLED_OUT.get(term))):
                return True
        return False


class LocalGazetteer:
    """The address points loaded with ``flask --app app addresses load``, searched in the
    database."""

    def __init__(self, db):
        self.db = db

    def search(self, text, limit=10, near=None):
        query = Query.parse(text)
        if not query.terms:
            return []
        places = []
        if query.number:
            places = [Place(row["address"], row["lon"], row["lat"],
                            _street_score(query, row) + NUMBER_WEIGHT)
                      for row in place_rows.numbered_matches(
                          self.db, query.groups(), query.number, CANDIDATE_STREETS)]
        streets = place_rows.matching_streets(
            self.db, query.groups(), STREETS_BESIDE_NUMBERS if query.number else CANDIDATE_STREETS,
            ranked=not query.number)
        places += [Place(_street_address(s), s["lon"], s["lat"], _street_score(query, s))
                   for s in streets]
        if query.number:
            places += self._between_numbers(query, streets, {p.address for p in places})
        return _best_first(places, near)[:limit]

    def _between_numbers(self, query, streets, known):
        """A house number the gazetteer lacks, placed on the best streets between the
        nearest numbers it has (or at the nearest one), as address ranges are."""
        wanted = _house_value(query.number)
        best = sorted(streets, key=lambda s: -_street_score(query, s))[:STREETS_TO_PLACE_ON]
        numbers = place_rows.numbered_points(self.db, [s["id"] for s in best])
        places = []
        for street in best:
            around = [(_house_value(n), lon, lat) for n, lon, lat in numbers.get(street["id"], [])
                      if _house_value(n) is not None]
            position = _placed_between(wanted, around)
            address = _street_address({**street, "name": f"{query.number} {street['name']}"})
            if position and address not in known:
                places.append(Place(address, *position,
                                    _street_score(query, street) + PLACED_NUMBER_WEIGHT))
        return places

    def nearest(self, lon, lat, max_m=REVERSE_MAX_M):
        for radius in sorted({min(25.0, max_m), max_m}):
            rows = place_rows.addresses_in_box(self.db, bbox_around(lon, lat, radius))
            found = [(distance_m(lon, lat, r["lon"], r["lat"]), r["id"], r) for r in rows]
            found = [item for item in found if item[0] <= radius]
            if found:
                metres, _, row = min(found, key=lambda item: item[:2])
                return Place(row["address"], row["lon"], row["lat"], distance_m=metres)
        return None


def _street_score(query, street):
    name = street["name_tokens"].split()
    covered = sum(1 for token in name if query.matches(token)) / max(1, len(name))
    locality = any(query.matches(token) for token in street["locality_tokens"].split())
    return NAME_WEIGHT * covered + LOCALITY_WEIGHT * locality


def _house_value(number):
    """The numeric part of a house number ("12b" -> 12), or None.

    >>> _house_value("12b"), _house_value("977"), _house_value("")
    (12, 977, None)
    """
    digits = number[:len(number) - len(number.lstrip("0123456789"))] if number else ""
    return int(digits) if digits else None


def _placed_between(wanted, around):
    """(lon, lat) for house number ``wanted`` from the street's (number, lon, lat): between
    the nearest lower and higher numbers of the same parity side when both exist, else at
    the nearest number; None without any.

    >>> _placed_between(20, [(10, 0.0, 0.0), (30, 1.0, 0.0)])
    (0.5, 0.0)
    >>> _placed_between(50, [(10, 0.0, 0.0), (30, 1.0, 0.0)])
    (1.0, 0.0)
    """
    if wanted is None or not around:
        return None
    side = [a for a in around if a[0] % 2 == wanted % 2] or around
    lower = max((a for a in side if a[0] < wanted), default=None)
    higher = min((a for a in side if a[0] > wanted), default=None)
    if lower and higher:
        share = (wanted - lower[0]) / (higher[0] - lower[0])
        return (lower[1] + share * (higher[1] - lower[1]),
                lower[2] + share * (higher[2] - lower[2]))
    nearest = min(side, key=lambda a: (abs(a[0] - wanted), a[0]))
    return nearest[1], nearest[2]


def _street_address(street):
    return ", ".join(part for part in (street["name"], street["locality"]) if part)


def _best_first(places, near):
    """By score; equal scores by distance to ``near`` when given (the sort is stable, so the
    full-text order decides the rest)."""
    if near is None:
        return sorted(places, key=lambda p: -round(p.score, 6))
    return sorted(places, key=lambda p: (-round(p.score, 6), distance_m(*near, p.lon, p.lat)))


def geocode_reports(db, everything=False):
    """Give each report without an address (or every report) the nearest address point
    within 150 m, all at once from the points around them; return (reports checked, reports
    given an address)."""
    rows = place_rows.reports_to_geocode(db, everything)
    if not rows:
        return 0, 0
    report_ids, lons, lats = (np.array(column) for column in zip(*rows, strict=True))
    points = place_rows.positions_in_box(db, _around(lons, lats, REVERSE_MAX_M))
    point_ids, point_lons, point_lats = (
        (np.array(column) for column in zip(*points, strict=True)) if points
        else (np.array([], dtype=np.int64), np.array([]), np.array([])))
    found, _ = nearest_within(point_lons, point_lats, lons, lats, REVERSE_MAX_M)
    addresses = place_rows.addresses_by_id(db, set(point_ids[found[found >= 0]].tolist()))
    pairs = [(addresses[int(point_ids[f])] if f >= 0 else None, int(report_id))
             for report_id, f in zip(report_ids.tolist(), found.tolist(), strict=True)
             if f >= 0 or everything]
    place_rows.set_report_addresses(db, pairs)
    return len(rows), sum(1 for address, _ in pairs if address)


def _around(lons, lats, metres):
    """The box of all (lons, lats) widened by ``metres`` on every side."""
    low = bbox_around(float(lons.min()), float(lats.min()), metres)
    high = bbox_around(float(lons.max()), float(lats.max()), metres)
    return low[0], low[1], high[2], high[3]
