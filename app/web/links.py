"""Absolute URLs for open data, APIs and e-mails; Flask builds each kind once, not per row."""

from functools import partial
from urllib.parse import urlsplit

from flask import url_for
from werkzeug.datastructures import ImmutableMultiDict
from werkzeug.routing import IntegerConverter

from app.ids import SQLITE_MAX_INTEGER


class RowIdConverter(IntegerConverter):
    """A row id in a URL: 1 to SQLite's largest integer; anything else is a 404."""

    def __init__(self, url_map):
        super().__init__(url_map, min=1, max=SQLITE_MAX_INTEGER)


class Links:
    """Absolute links to reports and photos: each kind built once, then completed per row.
    By default on the host the request came through (the API answers)."""

    def __init__(self, link=None):
        link = link or partial(url_for, _external=True)
        self._report = link("reports.show_report", report_id=1)[:-1]
        self._photo = link("reports.photo", name="x")[:-1]

    def report(self, report_id):
        return f"{self._report}{report_id}"

    def photo(self, name):
        return f"{self._photo}{name}"


class SiteLinks(Links):
    """Links on the site's public address (PUBLIC_URL), whichever host the request that
    caused them came through, or none (the outbox worker, a command): for e-mails and the
    published export files. Built from the app alone, so no request is needed."""

    def __init__(self, app):
        public_url = app.config["PUBLIC_URL"]
        self.host = urlsplit(public_url).hostname or "localhost"
        self._root = public_url.rstrip("/")
        self._paths = app.url_map.bind(urlsplit(public_url).netloc or "localhost")
        super().__init__(self._link)

    def _link(self, endpoint, **values):
        return self._root + self._paths.build(endpoint, values)

    def staff_report(self, report_id):
        return self._link("dispatch.report", report_id=report_id)

    def staff_photo(self, report_id, name):
        return self._link("dispatch.photo", report_id=report_id, name=name)

    def manage(self, report_id, token):
        return self._link("reports.manage_report", report_id=report_id, token=token)

    def unsubscribe(self, token):
        return self._link("reports.unsubscribe", token=token)

    def confirm_subscription(self, token):
        return self._link("reports.confirm_subscription", token=token)

    def confirm_support(self, token):
        return self._link("reports.confirm_support", token=token)


def link_args(args):
    """The query's arguments to repeat in a link, without the names ``url_for`` keeps for
    itself (``endpoint``, ``_external``, ``_scheme``...): ``?endpoint=x`` or ``?_external=1``
    would otherwise clash with them and make a page fail."""
    return ImmutableMultiDict([(name, value) for name, value in args.items(multi=True)
                               if name != "endpoint" and not name.startswith("_")])
