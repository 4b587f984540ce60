"""The web layer's half of the e-mails: Flask renders the templates and builds the links
that :mod:`app.messaging.notify` writes into messages, so the planner imports no Flask.

Built where e-mails are planned: by the outbox command for the worker, by a view for a
confirmation e-mail. Rendering needs the app context both have; no request is needed.
"""

from flask import render_template
from flask_babel import force_locale

from app.web.links import SiteLinks


class EmailWriter:
    """Renders an e-mail's templates in a language (None: the site's default); its
    ``links`` are on the site's public address."""

    def __init__(self, app):
        self.links = SiteLinks(app)
        self._default_locale = app.config["BABEL_DEFAULT_LOCALE"]

    def render(self, template, locale, **context):
        with force_locale(locale or self._default_locale):
            return render_template(template, **context)
