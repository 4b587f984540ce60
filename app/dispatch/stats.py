"""Dispatch statistics: open work, response times and weekly volume, per service and category."""

import statistics as stats_lib
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from app import localtime
from app.statuses import OPEN_STATUSES

WEEKS = 12


@dataclass
class Line:
    """One service and category: open count, oldest open report, median hours to act."""

    service_code: str
    service: str
    category_code: str
    category: str
    total: int = 0
    open: int = 0
    oldest_open: str | None = None
    hours_to_acknowledge: list = field(default_factory=list)
    hours_to_fix: list = field(default_factory=list)

    @property
    def median_acknowledge(self):
        return _median(self.hours_to_acknowledge)

    @property
    def median_fix(self):
        return _median(self.hours_to_fix)


@dataclass
class Summary:
    lines: list
    weeks: list  # (monday as date, count), oldest first


def summarise(rows, today=None, zone=UTC):
    """Fold report rows (service and category codes and names, status, created_at,
    acknowledged_at, fixed_at); weeks are the city's (``zone``), Monday to Sunday."""
    today = today or localtime.today(zone)
    first_monday = today - timedelta(days=today.weekday(), weeks=WEEKS - 1)
    lines = defaultdict(lambda: None)
    weekly = Counter()
    for row in rows:
        key = (row["service_code"], row["service"], row["category_code"], row["category"])
        line = lines[key] or Line(*key)
        lines[key] = line
        _count(line, row)
        created = localtime.local_date(row["created_at"], zone)
        week = created - timedelta(days=created.weekday())
        if week >= first_monday:
            weekly[week] += 1
    weeks = [(first_monday + timedelta(weeks=n), weekly[first_monday + timedelta(weeks=n)])
             for n in range(WEEKS)]
    return Summary(sorted(lines.values(), key=lambda line: (line.service, line.category)), weeks)


def _count(line, row):
    line.total += 1
    created = datetime.fromisoformat(row["created_at"])
    if row["status"] in OPEN_STATUSES:
        line.open += 1
        if line.oldest_open is None or row["created_at"] < line.oldest_open:
            line.oldest_open = row["created_at"]
    for moment, hours in ((row["acknowledged_at"], line.hours_to_acknowledge),
                          (row["fixed_at"], line.hours_to_fix)):
        if moment:
            hours.append((datetime.fromisoformat(moment) - created).total_seconds() / 3600)


def _median(values):
    return stats_lib.median(values) if values else None
