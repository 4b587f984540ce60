"""Absolute URLs for open data and APIs; Flask builds each kind once per request, not per row."""

from flask import current_app, url_for
from werkzeug.datastructures import ImmutableMultiDict
from werkzeug.routing import IntegerConverter

from app.ids import SQLITE_MAX_INTEGER


class RowIdConverter(IntegerConverter):
    """A row id in a URL: 1 to SQLite's largest integer; anything else is a 404."""

    def __init__(self, url_map):
        super().__init__(url_map, min=1, max=SQLITE_MAX_INTEGER)


class Links:
    def __init__(self):
        self._report = url_for("reports.show_report", report_id=1, _external=True)[:-1]
        self._photo = url_for("reports.photo", name="x", _external=True)[:-1]

    def report(self, report_id):
        return f"{self._report}{report_id}"

    def photo(self, name):
        return f"{self._photo}{name}"


def public_url(endpoint, **values):
    """A link for an e-mail: on the site's public address (PUBLIC_URL), whichever host the
    request that caused it came through, or none (the outbox worker)."""
    return current_app.config["PUBLIC_URL"].rstrip("/") + url_for(endpoint, **values)


def link_args(args):
    """The query's arguments to repeat in a link, without the names ``url_for`` keeps for
    itself (``endpoint``, ``_external``, ``_scheme``...): ``?endpoint=x`` or ``?_external=1``
    would otherwise clash with them and make a page fail."""
    return ImmutableMultiDict([(name, value) for name, value in args.items(multi=True)
                               if name != "endpoint" and not name.startswith("_")])
