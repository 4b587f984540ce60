"""Times as people read them: in the city's ``TIME_ZONE``, in the reader's language, with
the zone's abbreviation (PST/PDT) wherever a time of day shows. Jinja filters for pages and
e-mails; machine outputs (Open311, Atom, GeoJSON, CSV) keep the stored ISO 8601 strings.

In templates::

    {{ report.created_at|local_datetime }}   Jul 4, 2024, 9:07 AM PDT
    {{ report.created_at|local_date }}       Jul 4, 2024
    {{ report.created_at|local_time_tag }}   <time datetime=...>Jul 4, 2024, 9:07 AM PDT</time>
    {{ report.created_at|time_ago }}         <time datetime=... title="Jul 4...">3 hours ago</time>
"""

from datetime import UTC, datetime, timedelta

from babel.dates import format_date, format_time, format_timedelta
from flask import current_app
from flask_babel import get_locale
from markupsafe import Markup

from app import localtime

#: Older than this, a list shows the date instead of "n days ago".
RELATIVE_FOR = timedelta(days=7)


def register(app):
    """Check ``TIME_ZONE`` (start-up fails on an unknown name), make it Flask-Babel's zone
    too (its ``datetimeformat`` filter), and add the filters. Call before Babel's init_app."""
    zone = localtime.zone_named(app.config["TIME_ZONE"])
    app.extensions["time_zone"] = zone
    app.config["BABEL_DEFAULT_TIMEZONE"] = zone.key
    app.jinja_env.filters.update(local_datetime=local_datetime, local_date=local_date,
                                 local_time_tag=local_time_tag, time_ago=time_ago)
    app.jinja_env.globals["city_time_zone"] = zone.key


def city_zone():
    """The city's zone (a ``ZoneInfo``), for views that pass it down to the domain."""
    return current_app.extensions["time_zone"]


def _locale():
    return get_locale() or current_app.config["BABEL_DEFAULT_LOCALE"]


def local_datetime(moment):
    """Date and time of day in the city, with the zone's abbreviation."""
    if not moment:
        return ""
    local = localtime.in_zone(moment, city_zone())
    locale = _locale()
    day = format_date(local, "medium", locale=locale)
    clock = format_time(local, "short", tzinfo=local.tzinfo, locale=locale)
    return f"{day}, {clock} {localtime.abbreviation(local)}"


def local_date(moment):
    """The city's calendar day of a stored time or a date, in the reader's language."""
    if not moment:
        return ""
    day = moment if not isinstance(moment, str | datetime) else localtime.local_date(
        moment, city_zone())
    return format_date(day, "medium", locale=_locale())


def local_time_tag(moment):
    """A ``<time>`` element: the machine value with its offset, the local reading shown."""
    if not moment:
        return ""
    local = localtime.in_zone(moment, city_zone())
    return Markup('<time datetime="{}">{}</time>').format(
        local.isoformat(timespec="seconds"), local_datetime(moment))


def time_ago(moment, now=None):
    """For lists: "3 hours ago" (the exact local time in the tooltip), or the date for
    anything older than a week."""
    if not moment:
        return ""
    local = localtime.in_zone(moment, city_zone())
    elapsed = local - (now or datetime.now(UTC))
    shown = (format_timedelta(elapsed, add_direction=True, locale=_locale())
             if -RELATIVE_FOR < elapsed <= timedelta(minutes=1) else local_date(moment))
    return Markup('<time datetime="{}" title="{}">{}</time>').format(
        local.isoformat(timespec="seconds"), local_datetime(moment), shown)
