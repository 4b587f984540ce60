"""E-mail alerts with double opt-in: ask, confirm from the e-mail, unsubscribe in one click.

Nothing but the confirmation e-mail goes to an address until its owner confirms. Asking
twice for the same alert reuses the subscription and gets the same answer, so it never
reveals whether an address is subscribed: a new confirmation e-mail if it is still
unconfirmed and none was queued in the last day, nothing if it is already confirmed. Every
confirmation e-mail also comes out of the mailbox's daily budget (:mod:`app.confirmations`),
shared with every other alert and "me too", so the form cannot flood a mailbox.
"""

import math
import secrets
from dataclasses import replace
from itertools import islice

from app.errors import NotFound, ValidationError
from app.fields import check_email
from app.ids import row_id
from app.messaging import confirmations, notify
from app.messaging.message_headers import mailbox
from app.reporting import public
from app.storage import areas as area_rows
from app.storage import outbox as outbox_rows
from app.storage import public as public_rows
from app.storage import reports as report_rows
from app.storage import subscriptions as subscription_rows
from geo.coords import bbox_around, parse_lon_lat
from geo.errors import InvalidCoordinates
from geo.routing import covers_point

MIN_RADIUS_M = 50
DEFAULT_RADIUS_M = 500
#: An area's feed reads this many of the newest reports in the area's box, then keeps
#: those inside the polygon.
AREA_FEED_SCAN = 2000
#: At most one confirmation e-mail per address and alert in this time (a signed amount).
CONFIRMATION_INTERVAL = "-1 day"


def report_target(db, report_id):
    public.public_report(db, report_id)  # raises NotFound for a missing or hidden report
    return {"kind": "report", "report_id": report_id}


def radius_target(lon, lat, radius, max_radius):
    """A circle around a point, its radius in metres between 50 and ``max_radius``."""
    try:
        lon, lat = parse_lon_lat(lon, lat)
    except InvalidCoordinates as error:
        raise ValidationError.from_text(error) from None
    try:
        radius = float(radius)
    except (TypeError, ValueError):
        radius = math.nan
    if not MIN_RADIUS_M <= radius <= max_radius:
        raise ValidationError(
            "The radius must be a number of metres from %(min)s to %(max)s.",
            min=MIN_RADIUS_M, max=max_radius)
    return {"kind": "radius", "lon": lon, "lat": lat, "radius_m": radius}


def area_target(db, area_id):
    area = area_rows.active_area(db, row_id(area_id))
    if area is None:
        raise ValidationError("Choose one of the service areas in the list.")
    return {"kind": "area", "area_id": area["id"]}


def subscribe(db, email, target, locale, budget, writer):
    """Record the request and queue the confirmation e-mail (written by ``writer``, see
    :mod:`app.messaging.notify`), in one transaction, within the mailbox's confirmation
    budget (:mod:`app.confirmations`)."""
    email = check_email(email)
    if not email:
        raise ValidationError("Give the e-mail address where the alerts should go.")
    with db.atomic():
        existing = subscription_rows.find_same(db, email, target)
        if existing and existing["confirmed_at"]:
            return existing
        subscription = existing or subscription_rows.by_token(db, _insert(db, email, target,
                                                                             locale))
        if (not _mailbox_asked_recently(db, subscription, target)
                and subscription_rows.take_confirmation_turn(db, subscription["id"],
                                                            CONFIRMATION_INTERVAL)
                and confirmations.may_send(db, email, budget)):
            outbox_rows.enqueue(db, notify.confirmation_message(subscription, _described(
                db, target), writer))
    return subscription


def _mailbox_asked_recently(db, subscription, target):
    """Whether another spelling of this mailbox (``a+1@x.org`` for ``a@x.org``) got a
    confirmation for the same alert within the interval: one e-mail covers them all."""
    asked = subscription_rows.recently_confirmed_emails(db, target, CONFIRMATION_INTERVAL,
                                                        subscription["id"])
    return mailbox(subscription["email"]) in {mailbox(email) for email in asked}


def _insert(db, email, target, locale):
    token = secrets.token_urlsafe(24)
    subscription_rows.insert(db, {"email": email, "locale": locale, "token": token, **target})
    return token


def _described(db, target):
    """What the subscriber asked for, for the e-mail to say it back."""
    if target["kind"] == "report":
        return {**target, "report": report_rows.public_report(db, target["report_id"])}
    if target["kind"] == "area":
        return {**target, "area": area_rows.active_area(db, target["area_id"])}
    return target


def by_token(db, token):
    subscription = subscription_rows.by_token(db, token or "")
    if subscription is None:
        raise NotFound("This alert link is not valid (it may have been erased).")
    return subscription


def confirm(db, token):
    subscription = by_token(db, token)
    if subscription["unsubscribed_at"]:
        raise ValidationError("You unsubscribed from this alert: ask for it again to restart.")
    with db.atomic():
        subscription_rows.confirm(db, subscription["id"])
    return subscription


def unsubscribe(db, token):
    subscription = by_token(db, token)
    with db.atomic():
        subscription_rows.unsubscribe(db, subscription["id"])
    return subscription


def feed_entries(db, query, near, radius, area_id, max_radius, limit):
    """The reports of a feed, newest change first: the same alerts without an e-mail.

    ``near`` ("lon,lat") and ``radius`` make it a circle's feed; ``area_id`` a service
    area's (the area's box from the index, then the exact polygon).
    """
    if near:
        lon, _, lat = near.partition(",")
        circle = radius_target(lon, lat, radius or DEFAULT_RADIUS_M, max_radius)
        query = replace(query, near=(circle["lon"], circle["lat"], circle["radius_m"]),
                        bbox=bbox_around(circle["lon"], circle["lat"], circle["radius_m"]))
    if not area_id:
        return public_rows.recently_updated(db, query, limit)
    area = area_rows.area_bounds_and_geometry(db, row_id(area_id))
    if area is None:
        raise NotFound("There is no such service area.")
    query = replace(query, bbox=(area["min_lon"], area["min_lat"], area["max_lon"],
                                 area["max_lat"]))
    inside = (r for r in public_rows.recently_updated(db, query, AREA_FEED_SCAN)
              if covers_point(area["geometry"], r["lon"], r["lat"]))
    return list(islice(inside, limit))
