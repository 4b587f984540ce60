"""Residents saying "me too": nearby open reports, and one support per person and report."""

import hashlib
import hmac

from app import public
from app.errors import ValidationError
from app.statuses import OPEN_STATUSES
from app.storage import catalog
from app.storage import public as public_rows
from app.storage import supports as support_rows
from app.submit import check_email
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


GMAIL_DOMAINS = ("gmail.com", "googlemail.com")


def mailbox(email):
    """The mailbox an address reaches, for counting supports: case folded and without a
    ``+tag``; for Gmail also without dots, googlemail.com read as gmail.com (Gmail ignores
    both). Other providers may treat dots as significant, so they keep them."""
    local, _, domain = email.strip().lower().rpartition("@")
    local = local.split("+", 1)[0] or local
    if domain in GMAIL_DOMAINS:
        local, domain = local.replace(".", ""), GMAIL_DOMAINS[0]
    return f"{local}@{domain}"


def email_key(email, secret):
    """A keyed hash (HMAC-SHA256 with the site's secret key) of the mailbox: enough to count
    one support per person, useless to anyone reading the database without the key."""
    key = secret.encode() if isinstance(secret, str) else secret
    return hmac.new(key, f"support:{mailbox(email)}".encode(), hashlib.sha256).hexdigest()


def support(db, report_id, browser_token, email, secret):
    """Add one "me too" to an open public report; return the count.

    A repeat (this browser, or this mailbox in any spelling) gets the same answer as a first
    support and changes nothing, so the answer never tells whether an address supported
    the report. Only a keyed hash of the address is stored: it is used for nothing else.
    """
    report = public.public_report(db, report_id)
    if report["status"] not in OPEN_STATUSES:
        raise ValidationError("This report is no longer open, so it cannot be supported.")
    email = check_email(email)
    support_rows.add_support(db, report_id, browser_token,
                             email_key(email, secret) if email else None)
    return support_rows.support_count(db, report_id)
