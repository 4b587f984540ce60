"""Open311 GeoReport v2 in terms of our reports: search parameters, and request records.

No Flask here: the blueprint in ``app.open311`` parses the URL, calls these and renders
the result as JSON or XML.
"""

import json
import secrets
from dataclasses import replace
from datetime import UTC, datetime, timedelta

from app.errors import ValidationError
from app.ids import MAX_PAGE, row_id
from app.reporting.public import parse_bbox, parse_codes
from app.statuses import OPEN_STATUSES, STATUSES
from app.storage import public as rows
from app.storage.public import ReportQuery
from geo.coords import bbox_around

MAX_WINDOW = timedelta(days=90)
MAX_PAGE_SIZE = 1000

MAX_RADIUS_M = 50_000
CLOSED_STATUSES = tuple(s for s in STATUSES if s not in OPEN_STATUSES)
#: FixMyStreet's words for our statuses, in servicerequestupdates.
FMS_STATUS = {
    "new": "OPEN", "acknowledged": "INVESTIGATING", "in_progress": "IN_PROGRESS",
    "fixed": "FIXED", "closed": "CLOSED", "duplicate": "DUPLICATE",
    "rejected": "NOT_COUNCILS_RESPONSIBILITY",
}


def new_request_token():
    """The token answered to an Open311 client: it finds the request id, and nothing more."""
    return secrets.token_urlsafe(18)


def open_or_closed(status):
    return "open" if status in OPEN_STATUSES else "closed"


def parse_datetime(text, name):
    """A W3C date-time (or a date) as an aware UTC datetime; naive ones are taken as UTC."""
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise ValidationError(
            f"{name} {text!r} is not a W3C date-time like 2024-05-31T12:00:00Z.") from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC)


def date_window(start_text, end_text, now=None):
    """(start, end) of the search, end exclusive (one second after the given end date):
    at most 90 days, the last 90 days when none is given."""
    try:
        return _window(start_text, end_text, now or datetime.now(UTC))
    except OverflowError:
        raise ValidationError("start_date and end_date must be within years 1 to 9999.") from None


def _window(start_text, end_text, now):
    start = parse_datetime(start_text, "start_date") if start_text else None
    end = parse_datetime(end_text, "end_date") if end_text else None
    if start is None and end is None:
        end = now
    if start is None:
        start = end - MAX_WINDOW
    if end is None:
        end = start + MAX_WINDOW
    if end < start:
        raise ValidationError("end_date is before start_date.")
    if end - start > MAX_WINDOW:
        raise ValidationError("start_date and end_date may not span more than 90 days.")
    return start, end + timedelta(seconds=1)


def search(args, db):
    """(ReportQuery, page, page_size) from the GET requests parameters."""
    page, page_size = page_of(args)
    ids = args.get("service_request_id")
    if ids:
        return ReportQuery(ids=_ids(ids)), page, page_size
    start, end = date_window(args.get("start_date"), args.get("end_date"))
    query = ReportQuery(
        statuses=_statuses(_all_values(args, "status")),
        categories=parse_codes(_all_values(args, "service_code"),
                               lambda: rows.known_codes(db, "categories"), "service_code"),
        since=start.isoformat(timespec="seconds"),
        until=end.isoformat(timespec="seconds"),
        bbox=parse_bbox(args["bbox"]) if args.get("bbox") else None,
    )
    return _near(query, args), page, page_size


def _all_values(args, name):
    """A parameter given several times (``status=open&status=closed``) or comma-separated,
    as one comma-separated text."""
    return ",".join(args.getlist(name)) if hasattr(args, "getlist") else args.get(name)


def page_of(args):
    """(page, page_size) of a paged list, 1 and 1,000 by default."""
    return (_positive_int(args.get("page"), "page", 1, MAX_PAGE),
            _positive_int(args.get("page_size"), "page_size", MAX_PAGE_SIZE, MAX_PAGE_SIZE))


def _positive_int(text, name, default, maximum):
    if text in (None, ""):
        return default
    try:
        value = int(text)
    except ValueError:
        raise ValidationError(f"{name} must be a whole number.") from None
    if value < 1 or (maximum is not None and value > maximum):
        limit = f" and at most {maximum}" if maximum else ""
        raise ValidationError(f"{name} must be at least 1{limit}.")
    return value


def _ids(text):
    try:
        ids = tuple(int(part) for part in text.split(",") if part.strip())
    except ValueError:
        ids = ()
    if not ids or None in (row_id(i) for i in ids):
        raise ValidationError("service_request_id must be numbers separated by commas.")
    return ids


def _statuses(text):
    if not text:
        return ()
    chosen = {part.strip().lower() for part in text.split(",") if part.strip()}
    unknown = chosen - {"open", "closed"}
    if unknown:
        raise ValidationError(f"status must be open or closed, not {', '.join(sorted(unknown))}.")
    return (OPEN_STATUSES if "open" in chosen else ()) + (
        CLOSED_STATUSES if "closed" in chosen else ())



def _near(query, args):
    """lat/long/radius (metres): an exact distance filter inside a bbox the R*Tree can use."""
    if not args.get("lat") and not args.get("long"):
        return query
    try:
        lat, lon = float(args.get("lat", "")), float(args.get("long", ""))
        radius = float(args.get("radius") or 1000)
    except ValueError:
        raise ValidationError("lat, long and radius must be numbers.") from None
    if not (-90 <= lat <= 90 and -180 <= lon <= 180) or not 0 < radius <= MAX_RADIUS_M:
        raise ValidationError(f"lat/long must be a position and radius 1 to {MAX_RADIUS_M} m.")
    return replace(query, bbox=bbox_around(lon, lat, radius), near=(lon, lat, radius))


def service_record(category, group, asks_questions=False):
    """One service; ``metadata`` is true when it has a definition worth reading (questions)."""
    return {
        "service_code": category["code"],
        "service_name": category["name"],
        "description": category.get("description") or category["name"],
        "metadata": asks_questions,
        "type": "realtime",
        "keywords": category["code"].replace("-", ","),
        "group": group,
    }


def request_record(row, links, notes, history=None, answers=()):
    """One report as an Open311 request (ids as strings, W3C times with an offset)."""
    detailed = str(STATUSES.get(row["status"], row["status"]))
    note = notes.get(row["id"])
    record = {
        "service_request_id": str(row["id"]),
        "status": open_or_closed(row["status"]),
        "status_notes": f"{detailed}: {note}" if note else detailed,
        "service_name": row["category"],
        "service_code": row["category_code"],
        "description": row["description"],
        "agency_responsible": row["service"],
        "service_notice": "",
        "requested_datetime": row["created_at"],
        "updated_datetime": row["updated_at"],
        "expected_datetime": _expected(row),
        "address": row["address_string"] or row["address"] or "",
        "address_id": row["address_id"] or "",
        "lat": row["lat"],
        "long": row["lon"],
        "media_url": links.photo(row["photo_name"]) if row["photo_name"] else row["media_url"],
    }
    if history is not None:
        record["extended_attributes"] = {"detailed_status": row["status"], "history": history,
                                         "attributes": list(answers),
                                         "media_urls": json.loads(row["media_urls"] or "[]")}
    return record


def _expected(row):
    """When an open request should be fixed: the category's fix target (the console's due
    time), else the service's target in days."""
    if row["status"] not in OPEN_STATUSES:
        return None
    if row["fix_due_at"]:
        return row["fix_due_at"]
    if not row["target_days"]:
        return None
    created = datetime.fromisoformat(row["created_at"])
    return (created + timedelta(days=row["target_days"])).isoformat(timespec="seconds")


def update_record(event):
    """One status change in FixMyStreet's servicerequestupdates shape."""
    return {
        "update_id": str(event["id"]),
        "service_request_id": str(event["report_id"]),
        "status": FMS_STATUS.get(event["to_status"], "OPEN"),
        "updated_datetime": event["at"],
        "description": event["public_note"] or "",
        "media_url": "",
    }
