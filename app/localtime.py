"""The city's local time: stored times are UTC ISO 8601 strings; people read them in the
``TIME_ZONE`` setting's zone, and a date someone types (``since=2024-03-10``) means that
local day, not the UTC one. Pure functions of a zone passed in, so every layer may use them.
"""

from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError


class UnknownTimeZone(ValueError):
    """The ``TIME_ZONE`` setting names no IANA zone; the app refuses to start."""


def zone_named(name):
    """The IANA zone ``name`` (e.g. ``America/Los_Angeles``), or :class:`UnknownTimeZone`.

    >>> zone_named("America/Los_Angeles").key
    'America/Los_Angeles'
    """
    try:
        return ZoneInfo(str(name))
    except (ZoneInfoNotFoundError, ValueError):
        raise UnknownTimeZone(
            f"TIME_ZONE {name!r} is not an IANA time zone name; use one like "
            "'America/Los_Angeles', 'Europe/Paris' or 'UTC'.") from None


def in_zone(moment, zone):
    """A stored ISO string (or an aware datetime) as an aware datetime in ``zone``; a naive
    one is taken as UTC, the way the database stores times.

    >>> in_zone("2024-07-04T16:07:00+00:00", zone_named("America/Los_Angeles")).hour
    9
    """
    if isinstance(moment, str):
        moment = datetime.fromisoformat(moment)
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(zone)


def abbreviation(local):
    """The zone's short name at that moment (PST or PDT); a zone without letters in the
    database (``-03``) reads as ``UTC-03``.

    >>> abbreviation(in_zone("2024-01-15T12:00:00+00:00", zone_named("America/Los_Angeles")))
    'PST'
    """
    name = local.tzname() or ""
    return f"UTC{name}" if name[:1] in "+-" else name


def local_date(moment, zone):
    """The local calendar day of a stored time (a report at 20:00 PDT is on that day, even
    though it is the next day in UTC)."""
    return in_zone(moment, zone).date()


def day_start(day, zone):
    """The UTC ISO string of the local midnight that starts ``day``; a day that starts in a
    DST gap starts at the first moment that exists.

    >>> from datetime import date
    >>> day_start(date(2024, 3, 10), zone_named("America/Los_Angeles"))
    '2024-03-10T08:00:00+00:00'
    """
    local = datetime.combine(day, time(0), tzinfo=zone)
    return local.astimezone(UTC).isoformat()


def next_day_start(day, zone):
    """The UTC ISO string of the local midnight after ``day``: ``until=day`` includes it all.

    >>> from datetime import date
    >>> next_day_start(date(2024, 3, 10), zone_named("America/Los_Angeles"))
    '2024-03-11T07:00:00+00:00'
    """
    return day_start(day + timedelta(days=1), zone)


def today(zone, now=None):
    """Today's date in the city."""
    return (now or datetime.now(UTC)).astimezone(zone).date()
