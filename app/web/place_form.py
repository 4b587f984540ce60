"""The report form's place search as plain HTML: without JavaScript the search box is a GET
of the form page (``?place=977 N Hill``) that lists the matching addresses as links, and a
link fills the position (``?lon=&lat=``) so the resident carries on from there. With
JavaScript, static/js/place_search.js asks ``/api/places`` as the resident types instead.
"""

from dataclasses import dataclass, field

from flask import url_for
from flask_babel import gettext
from werkzeug.datastructures import MultiDict

from app.reporting import places
from app.reporting.address_text import words
from app.storage import areas as area_rows
from app.web.i18n import name_of
from geo.coords import parse_lon_lat
from geo.errors import InvalidCoordinates

#: Matches listed on the page: enough to find one's street, few enough to read on a phone.
RESULTS_SHOWN = 8


@dataclass
class PlaceSearch:
    """What the form shows about places: the text searched, the matches as (address, link),
    a problem with the search, and the address of a position filled from a link."""

    text: str = ""
    results: list = field(default_factory=list)
    problem: str | None = None
    chosen: str | None = None
    searched: bool = False

    @property
    def status(self):
        return 400 if self.problem else 200


OUTSIDE = "This location is outside the area we cover."


def form_context(db, search=None, error=None):
    """What the form's place box needs: the search, and what the service areas cover (named
    when the pin fell outside them, ``outside_area``)."""
    fields = getattr(error, "fields", {})
    return {"place_search": search or PlaceSearch(), "covered_by": covered_by(db),
            "outside_area": getattr(fields.get("lon"), "template", None) == OUTSIDE}


def covered_by(db):
    """The services that take reports here, in the reader's language, for "outside the area
    we cover" to say what is covered."""
    names = {}
    for area in area_rows.active_area_choices(db):
        names.setdefault(area["service_code"], name_of("service", area["service_code"],
                                                       area["service"]))
    return sorted(names.values())


def from_args(args, db):
    """The form's starting values (a position and category from a chosen link; a MultiDict
    like a posted form's) and the place search of this GET, if any."""
    values, search = {}, PlaceSearch()
    position = _position(args)
    if position:
        values["lon"], values["lat"] = (f"{v:.6f}" for v in position)
        place = places.default_gazetteer(db).nearest(*position)
        search.chosen = place.address if place else None
    if args.get("category"):
        values["category"] = args["category"][:100]
    if "place" in args:
        _search(search, args["place"], db, values.get("category"))
    return MultiDict(values), search


def _position(args):
    try:
        return parse_lon_lat(args.get("lon"), args.get("lat"))
    except InvalidCoordinates:
        return None


def _search(search, text, db, category):
    search.text, search.searched = text[:places.QUERY_MAX_LENGTH], True
    search.problem = _problem_with(text.strip())
    if search.problem:
        return
    found = places.default_gazetteer(db).search(text.strip(), limit=RESULTS_SHOWN)
    search.results = [(p.address, _link(p, category)) for p in found]


def _problem_with(text):
    if not text:
        return gettext("Type a street and number, or a place, to search for.")
    if len(text) > places.QUERY_MAX_LENGTH:
        return gettext("The search is %(length)s characters long; the limit is %(limit)s.",
                       length=len(text), limit=places.QUERY_MAX_LENGTH)
    if not words(text):
        return gettext("Type at least one letter or digit to search for a place.")
    return None


def _link(place, category):
    arguments = {"lon": f"{place.lon:.6f}", "lat": f"{place.lat:.6f}"}
    if category:
        arguments["category"] = category
    return url_for("reports.new_report", **arguments, _anchor="place-search-box")
