"""Residents saying "me too": nearby open reports, and one support per person and report."""

from app import public
from app.errors import ValidationError
from app.statuses import OPEN_STATUSES
from app.storage import catalog
from app.storage import public as public_rows
from app.storage import supports as support_rows
from app.submit import EMAIL_MAX_LENGTH, EMAIL_PATTERN
from geo.coords import bbox_around, parse_lon_lat
from geo.errors import InvalidCoordinates

NEARBY_RADIUS_M = 50
NEARBY_LIMIT = 10


def nearby(db, lon, lat, category_code, links):
    """Open reports of the same category within 50 m (great-circle distance), nearest first."""
    try:
        lon, lat = parse_lon_lat(lon, lat)
    except InvalidCoordinates as error:
        raise ValidationError.from_text(error) from None
    if catalog.category_by_code(db, category_code or "") is None:
        raise ValidationError("%(code)r is not a category we know.", code=category_code)
    query = public_rows.ReportQuery(
        bbox=bbox_around(lon, lat, NEARBY_RADIUS_M), statuses=OPEN_STATUSES,
        categories=(category_code,), near=(lon, lat, NEARBY_RADIUS_M),
    )
    found = public_rows.nearest(db, query, lon, lat, NEARBY_LIMIT)
    return [{
        "id": row["id"], "url": links.report(row["id"]), "created_at": row["created_at"],
        "description": row["description"], "supports": row["supports"],
        "distance_m": round(row["distance_m"]),
        "thumbnail": links.photo(row["thumb_name"]) if row["thumb_name"] else None,
    } for row in found]


def support(db, report_id, browser_token, email=None):
    """Add one "me too" to an open public report; return the new count."""
    report = public.public_report(db, report_id)
    if report["status"] not in OPEN_STATUSES:
        raise ValidationError("This report is no longer open, so it cannot be supported.")
    email = (email or "").strip() or None
    if email and (len(email) > EMAIL_MAX_LENGTH or not EMAIL_PATTERN.match(email)):
        raise ValidationError("%(email)r is not a valid e-mail address.", email=email)
    if not support_rows.add_support(db, report_id, browser_token, email):
        raise ValidationError("You have already said \u201cme too\u201d for this report.")
    return support_rows.support_count(db, report_id)
