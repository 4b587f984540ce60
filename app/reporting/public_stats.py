"""Public statistics: what the city does with reports, for a period, a service, a category
or a service area, from the summaries kept on write (never a scan of the reports).

Definitions (also on the page and in the README):

- *received*: public reports created in the period (local days of ``TIME_ZONE``); *fixed*,
  *closed*, *still open*: of those, how many are in that state now.
- *backlog*: every public open report now, by age: under a week, under a month, older.
- *time to acknowledge*: from receipt to the first status change away from "new";
  *time to fix*: from receipt to the latest "fixed" (a reopened report is not fixed).
  Durations are counted in hours rounded to two significant figures; the median is the
  middle value (mean of the two middle ones), the 90th percentile the nearest rank.
- *fixed within target*: of the fixed reports of a category that has a fix target (a
  service's own target first), the share fixed within it.

Hidden reports count in no figure.
"""

import csv
import io
import math
from dataclasses import dataclass, field
from datetime import date, timedelta

from app import localtime
from app.errors import NotFound, ValidationError
from app.storage import public_stats as rows

PERIODS = {"30d": 30, "90d": 90, "12m": 365}
DEFAULT_PERIOD = "90d"
MOST_SUPPORTED = 5
OPEN = rows.OPEN
CSV_COLUMNS = ["figure", "service", "category", "week_of", "value"]
#: Calendar rows cover these years; reports outside them count in UTC days.
CALENDAR_YEARS = (1990, 2100)


@dataclass(frozen=True)
class StatsFilter:
    """The question asked: a period and at most one service, category and area."""

    period: str = DEFAULT_PERIOD
    service: str | None = None
    category: str | None = None
    area: int | None = None

    def query_args(self, **changes):
        """The filter as query arguments (for links), with ``changes`` applied."""
        values = {"period": self.period, "service": self.service, "category": self.category,
                  "area": self.area, **changes}
        return {key: value for key, value in values.items() if value}


@dataclass
class Durations:
    """A histogram of hours: how many reports took each (rounded) duration."""

    counts: list = field(default_factory=list)  # (hours, n), shortest first

    @property
    def count(self):
        return sum(n for _, n in self.counts)

    def at_rank(self, rank):
        """The ``rank``-th shortest duration (1-based)."""
        seen = 0
        for hours, n in self.counts:
            seen += n
            if seen >= rank:
                return hours
        return None

    @property
    def median(self):
        total = self.count
        if not total:
            return None
        if total % 2:
            return self.at_rank(total // 2 + 1)
        return (self.at_rank(total // 2) + self.at_rank(total // 2 + 1)) / 2

    @property
    def p90(self):
        total = self.count
        return self.at_rank(math.ceil(0.9 * total)) if total else None


@dataclass
class Line:
    """One service and category inside the question's scope."""

    service_code: str
    service: str
    category_code: str
    category: str
    statuses: dict = field(default_factory=dict)
    target_hours: float | None = None
    within_target: tuple | None = None  # (within, fixed)

    @property
    def received(self):
        return sum(self.statuses.values())

    def count(self, *statuses):
        return sum(self.statuses.get(s, 0) for s in statuses)


@dataclass
class Figures:
    """Everything the page, the JSON and the CSV say for one :class:`StatsFilter`."""

    filter: StatsFilter
    first_day: date
    today: date
    statuses: dict
    backlog: dict
    acknowledge: Durations
    fix: Durations
    within_target: tuple | None
    lines: list
    weeks: list  # (monday, received)
    most_supported: list
    area: dict | None = None

    @property
    def received(self):
        return sum(self.statuses.values())

    def count(self, *statuses):
        return sum(self.statuses.get(s, 0) for s in statuses)


def parse_filter(args, db, area=None):
    """A :class:`StatsFilter` from request arguments, or :class:`ValidationError`."""
    period = args.get("period") or DEFAULT_PERIOD
    if period not in PERIODS:
        raise ValidationError("The period %(period)r is not one of %(periods)s.",
                              period=period, periods=", ".join(PERIODS))
    service = _known_code(args.get("service"), rows.ids_by_code(db, "services"),
                          "There is no service with the code %(code)r.")
    category = _known_code(args.get("category"), rows.ids_by_code(db, "categories"),
                           "There is no category with the code %(code)r.")
    if area is None and args.get("area"):
        area = _area_number(args.get("area"))
    return StatsFilter(period, service, category, area)


def _known_code(code, known, message):
    code = (code or "").strip() or None
    if code is not None and code not in known:
        raise ValidationError(message, code=code)
    return code


def _area_number(text):
    if not text.isascii() or not text.isdigit() or len(text) > 18:
        raise ValidationError("The area %(area)r is not an area number.", area=text)
    return int(text)


def service_area(db, area_id):
    """The area with its service, or :class:`NotFound`."""
    area = rows.area(db, area_id)
    if area is None:
        raise NotFound("There is no service area number %(id)s.", id=area_id)
    return area


def ensure_calendar(db, zone):
    """Count the summaries in the local days of ``zone`` (once, after ``TIME_ZONE`` changes)."""
    if rows.calendar_zone(db) != zone.key:
        rows.recount_in_zone(db, zone.key, [] if zone.key == "UTC" else day_starts(zone))


def day_starts(zone):
    """(UTC instant, local day) of every day of the calendar years in ``zone``."""
    day, end = date(CALENDAR_YEARS[0], 1, 1), date(CALENDAR_YEARS[1], 12, 31)
    starts = []
    while day <= end:
        starts.append((localtime.day_start(day, zone), day.isoformat()))
        day += timedelta(days=1)
    return starts


def figures(db, stats_filter, today):
    """The :class:`Figures` of ``stats_filter`` for the period ending ``today`` (local)."""
    first_day = today - timedelta(days=PERIODS[stats_filter.period] - 1)
    area = service_area(db, stats_filter.area) if stats_filter.area else None
    scope = _scope(db, stats_filter, area)
    day_counts = rows.day_counts(db, scope, first_day.isoformat(), today.isoformat())
    periods = window_periods(first_day, today)
    durations = {"ack": Durations(), "fix": Durations()}
    for kind, hours, n in rows.duration_counts(db, scope, periods):
        durations[kind].counts.append((hours, n))
    lines = _lines(db, scope, (first_day, today), area, periods)
    return Figures(
        filter=stats_filter, first_day=first_day, today=today,
        statuses=_by_status(day_counts), backlog=_backlog(rows.open_days(db, scope), today),
        acknowledge=durations["ack"], fix=durations["fix"],
        within_target=_total_within(lines), lines=lines,
        weeks=_weeks(day_counts, first_day, today),
        most_supported=rows.most_supported(db, scope, MOST_SUPPORTED), area=area)


def _scope(db, stats_filter, area):
    """(service_id, category_id, area_id) of the filter, 0 for "any"; an area's figures are
    its reports whatever service handles them now, so a service filter must be its own."""
    services = rows.ids_by_code(db, "services")
    categories = rows.ids_by_code(db, "categories")
    category_id = categories[stats_filter.category][0] if stats_filter.category else 0
    if area:
        if stats_filter.service and stats_filter.service != area["service_code"]:
            raise ValidationError("Service area %(id)s belongs to another service.",
                                  id=area["id"])
        return (0, category_id, area["id"])
    service_id = services[stats_filter.service][0] if stats_filter.service else 0
    return (service_id, category_id, 0)


def window_periods(first_day, today):
    """The whole months and the single days that make up ``first_day``..``today``.

    >>> window_periods(date(2024, 1, 30), date(2024, 3, 2))
    ['2024-01-30', '2024-01-31', '2024-02', '2024-03-01', '2024-03-02']
    """
    periods = []
    day = first_day
    while day <= today:
        month_end = (day.replace(day=28) + timedelta(days=4)).replace(day=1) - timedelta(days=1)
        if day.day == 1 and month_end <= today:
            periods.append(day.isoformat()[:7])
            day = month_end + timedelta(days=1)
        else:
            periods.append(day.isoformat())
            day += timedelta(days=1)
    return periods


def _by_status(day_counts):
    statuses = {}
    for _, status, n in day_counts:
        statuses[status] = statuses.get(status, 0) + n
    return statuses


def _backlog(open_days, today):
    backlog = {"week": 0, "month": 0, "older": 0}
    for day, n in open_days:
        age = (today - date.fromisoformat(day)).days
        backlog["week" if age < 7 else "month" if age < 30 else "older"] += n
    return backlog


def _weeks(day_counts, first_day, today):
    """(monday, reports received that week within the period), oldest first."""
    first_monday = first_day - timedelta(days=first_day.weekday())
    count = (today - first_monday).days // 7 + 1
    weekly = [0] * count
    for day, _, n in day_counts:
        weekly[(date.fromisoformat(day) - first_monday).days // 7] += n
    return [(first_monday + timedelta(weeks=k), weekly[k]) for k in range(count)]


def _lines(db, scope, days, area, periods):
    """The service and category lines, with the share fixed within target where a category
    has one."""
    services = {v[0]: (code, v[1]) for code, v in rows.ids_by_code(db, "services").items()}
    categories = {v[0]: (code, v[1]) for code, v in rows.ids_by_code(db, "categories").items()}
    targets = rows.fix_targets(db)
    lines = {}
    first_day, last_day = (day.isoformat() for day in days)
    for service_id, category_id, status, n in rows.line_counts(db, scope, first_day, last_day):
        if area:
            service_id = area["service_id"]
        line = lines.get((service_id, category_id))
        if line is None:
            line = Line(*services[service_id], *categories[category_id])
            line.target_hours = targets.get((service_id, category_id),
                                            targets.get((None, category_id)))
            lines[(service_id, category_id)] = line
        line.statuses[status] = n
    for (service_id, category_id), line in lines.items():
        if line.target_hours is not None:
            line_scope = (0, category_id, area["id"]) if area else (service_id, category_id, 0)
            line.within_target = rows.fixed_within(db, line_scope, periods, line.target_hours)
    return sorted(lines.values(), key=lambda line: (line.service, line.category))


def _total_within(lines):
    counted = [line.within_target for line in lines if line.within_target]
    if not counted:
        return None
    return sum(w for w, _ in counted), sum(n for _, n in counted)


def as_dict(figures, links):
    """The figures as plain data (the JSON answer); ``links`` builds report URLs."""
    return {
        "period": {"name": figures.filter.period, "first_day": figures.first_day.isoformat(),
                   "last_day": figures.today.isoformat()},
        "filter": {"service": figures.filter.service, "category": figures.filter.category,
                   "area": figures.filter.area},
        "area": ({"id": figures.area["id"], "name": figures.area["name"],
                  "service": figures.area["service_code"]} if figures.area else None),
        "received": figures.received,
        "fixed": figures.count("fixed"),
        "closed": figures.count("closed"),
        "still_open": figures.count(*OPEN),
        "backlog": {"under_a_week": figures.backlog["week"],
                    "under_a_month": figures.backlog["month"],
                    "older": figures.backlog["older"]},
        "hours_to_acknowledge": _durations_dict(figures.acknowledge),
        "hours_to_fix": _durations_dict(figures.fix),
        "fixed_within_target": _within_dict(figures.within_target),
        "lines": [{"service": line.service_code, "category": line.category_code,
                   "received": line.received, "fixed": line.count("fixed"),
                   "closed": line.count("closed"), "still_open": line.count(*OPEN),
                   "target_hours": line.target_hours,
                   "fixed_within_target": _within_dict(line.within_target)}
                  for line in figures.lines],
        "weeks": [{"week_of": monday.isoformat(), "received": n}
                  for monday, n in figures.weeks],
        "most_supported": [{"id": r["id"], "url": links.report(r["id"]),
                            "category": r["category_code"], "status": r["status"],
                            "supports": r["supports"], "created_at": r["created_at"]}
                           for r in figures.most_supported],
    }


def _durations_dict(durations):
    return {"reports": durations.count, "median": durations.median, "p90": durations.p90}


def _within_dict(within):
    if not within:
        return None
    count, fixed = within
    return {"within": count, "fixed": fixed, "share": round(count / fixed, 4) if fixed else None}


def csv_text(data):
    """The JSON answer as tidy CSV: one figure per row (figure, service, category, week_of,
    value), so every number of the JSON is a row."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(CSV_COLUMNS)
    for figure, service, category, week, value in _csv_rows(data):
        writer.writerow([figure, service or "", category or "", week or "",
                         "" if value is None else value])
    return out.getvalue()


def _csv_rows(data):
    for name in ("received", "fixed", "closed", "still_open"):
        yield name, None, None, None, data[name]
    for age, n in data["backlog"].items():
        yield f"backlog_{age}", None, None, None, n
    for kind in ("hours_to_acknowledge", "hours_to_fix"):
        for key, value in data[kind].items():
            yield f"{kind}_{key}", None, None, None, value
    yield from _within_rows(data["fixed_within_target"], None, None)
    for line in data["lines"]:
        for name in ("received", "fixed", "closed", "still_open", "target_hours"):
            yield name, line["service"], line["category"], None, line[name]
        yield from _within_rows(line["fixed_within_target"], line["service"], line["category"])
    for week in data["weeks"]:
        yield "received", None, None, week["week_of"], week["received"]


def _within_rows(within, service, category):
    for key, value in (within or {}).items():
        yield f"fixed_within_target_{key}", service, category, None, value


#: About this many density cells across the map's width.
DENSITY_CELLS_ACROSS = 40


def density(db, query):
    """Where public reports concentrate in ``query``'s bbox: the cell size in degrees and
    (west, south, count) per cell, from the map's cell counts (never a scan of the reports),
    at the finest level that keeps about :data:`DENSITY_CELLS_ACROSS` cells across."""
    min_lon, min_lat, max_lon, max_lat = query.bbox
    wanted = max(max_lon - min_lon, max_lat - min_lat) / DENSITY_CELLS_ACROSS
    levels = rows.cell_levels(db)
    level, size = next(((lv, s) for lv, s in reversed(levels) if s >= wanted), levels[0])
    cell_range = (int((min_lon + 180) // size), int((max_lon + 180) // size),
                  int((min_lat + 90) // size), int((max_lat + 90) // size))
    cells = [(round(cx * size - 180, 9), round(cy * size - 90, 9), n)
             for cx, cy, n in rows.density_cells(db, level, cell_range, query)]
    return {"cell_size": size, "cells": cells, "max": max((n for *_, n in cells), default=0)}
