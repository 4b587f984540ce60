"""Residents saying "me too": nearby open reports, and one support per person and report
(per browser, or per mailbox once its owner confirms)."""

import secrets
from dataclasses import dataclass

from app.errors import NotFound, ValidationError
from app.fields import check_email
from app.messaging import confirmations, notify
from app.messaging.confirmations import mailbox_key
from app.reporting import public
from app.statuses import OPEN_STATUSES
from app.storage import catalog
from app.storage import outbox as outbox_rows
from app.storage import public as public_rows
from app.storage import supports as support_rows
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


def email_key(email, secret):
    """The keyed hash of the mailbox a support with an e-mail is kept under: enough to count
    one support per person, useless to anyone reading the database without the key."""
    return mailbox_key("support", email, secret)


@dataclass(frozen=True)
class Supported:
    """The answer to "me too": the public count (unchanged until an e-mail is confirmed) and
    whether the resident must confirm from their mailbox. Neither depends on whether that
    mailbox already supported the report."""
    supports: int
    confirm_by_email: bool


def support(db, report_id, browser_token, email, budget, locale, writer):
    """Add one "me too" to an open public report.

    Without an e-mail it counts at once, once per browser. With one it counts only when the
    mailbox's owner confirms it from the e-mail we send (within the mailbox's confirmation
    budget): the answer is the same for every address, and a repeat changes nothing, so the
    answer and the public count never tell whether an address supported the report. Only a
    keyed hash of the address is kept with the support. ``writer`` writes the e-mail (see
    :mod:`app.messaging.notify`).
    """
    report = public.public_report(db, report_id)
    if report["status"] not in OPEN_STATUSES:
        raise ValidationError("This report is no longer open, so it cannot be supported.")
    email = check_email(email)
    if email:
        with db.atomic():
            _ask_mailbox_owner(db, report, email, budget, locale, writer)
    else:
        support_rows.add_browser_support(db, report_id, browser_token)
    return Supported(support_rows.support_count(db, report_id), bool(email))


def _ask_mailbox_owner(db, report, email, budget, locale, writer):
    """Keep (or reuse) this mailbox's unconfirmed support and e-mail its confirmation link."""
    key = email_key(email, budget.secret)
    token = support_rows.mailbox_token(db, report["id"], key)
    if token is None:
        token = secrets.token_urlsafe(24)
        support_rows.add_unconfirmed(db, report["id"], key, token)
    if confirmations.may_send(db, email, budget):
        outbox_rows.enqueue(db, notify.support_confirmation_message(report, email, token,
                                                                    locale, writer))


def by_token(db, token):
    found = support_rows.by_confirm_token(db, token or "")
    if found is None:
        raise NotFound("This confirmation link is not valid (it may have expired).")
    return found


def confirm(db, token):
    """Count the support of the link's mailbox; a second confirmation counts nothing."""
    found = by_token(db, token)
    with db.atomic():
        support_rows.confirm(db, found["id"])
    return found
