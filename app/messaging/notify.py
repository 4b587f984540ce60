"""Who must hear about what: turns report events into outbox messages.

The events table is the source of truth. The worker reads events past a cursor and writes
their messages and the new cursor in one transaction, so an event is planned exactly once
even if the worker stops half way; each message also has a dedupe key (a report goes to a
service once per channel; an alert once per event and address).

No Flask here: the caller hands in a ``writer`` (the web layer's
:class:`app.web.emails.EmailWriter`), which renders a template in a language with
``writer.render(template, locale, **context)`` (locale None: the site's default) and builds
the links an e-mail carries with ``writer.links`` (``report``, ``staff_report``,
``staff_photo``, ``manage``, ``unsubscribe``, ``confirm_subscription``,
``confirm_support``, and ``host`` for Message-IDs).
"""

import json
import re
import secrets
from functools import cached_property

from app.messaging import open311_client
from app.messaging.message_headers import one_line
from app.storage import outbox as outbox_rows
from app.storage import questions as question_rows
from app.storage import queue as staff_rows
from app.storage import reports as report_rows
from app.storage import subscriptions as subscription_rows
from app.storage import updates as update_rows
from geo.routing import covers_point

BATCH = 500
SERVICE_EVENTS = {"created", "reassigned", "rerouted"}
MESSAGE_ID_UNSAFE = re.compile(r"[^A-Za-z0-9._-]")


def plan_notifications(db, writer):
    """Write the messages of every new event to the outbox; return how many were added."""
    added = 0
    while True:
        with db.atomic():
            events = outbox_rows.events_after(db, outbox_rows.event_cursor(db), BATCH)
            if not events:
                return added
            areas = subscription_rows.area_subscriptions_with_geometry(db)
            for event in events:
                for message in messages_for(db, event, areas, writer):
                    added += outbox_rows.enqueue(db, message)
            outbox_rows.advance_event_cursor(db, events[-1]["event_id"])


class EventReport:
    """The report an event is about, read once in each shape its messages need: as the
    public sees it (alerts) and as the service needs it (contact, staff links, photos)."""

    def __init__(self, db, report_id, links):
        self.db, self.id, self.links = db, report_id, links

    @cached_property
    def public(self):
        return report_rows.public_report(self.db, self.id)

    @cached_property
    def for_staff(self):
        return _report_for_staff(self.db, self.id, self.links)


def messages_for(db, event, area_subscriptions, writer):
    report = EventReport(db, event["report_id"], writer.links)
    if event["kind"] in SERVICE_EVENTS:
        yield from service_messages(event, report, writer)
    if event["kind"] == "created" and event["reporter_email"] and event["token"]:
        yield private_link_message(event, report.public or report.for_staff, writer)
    if event["hidden"]:
        return
    if event["kind"] == "created":
        yield from area_alerts(db, event, report.public, area_subscriptions, writer)
    elif event["kind"] in ("update", "reopen_requested"):
        update = _public_update_text(db, event)
        if update is not None:
            yield from report_alerts(db, event, report.public, writer, update)
    elif event["kind"] == "reassigned" or (
            event["kind"] == "status"
            and (event["from_status"] != event["to_status"] or event["public_note"])):
        yield from report_alerts(db, event, report.public, writer)


def _public_update_text(db, event):
    """The text of the update an event records, unless staff hid it."""
    update_id = json.loads(event["details"]).get("update")
    return next((u["text"] for u in update_rows.public_updates(db, event["report_id"])
                 if u["id"] == update_id), None)


def service_messages(event, report, writer):
    """The report for the service now responsible: e-mail, webhook and/or the city's Open311
    server, as configured."""
    if not (event["service_email"] or event["service_webhook"] or event["service_open311"]):
        return
    key = f"report:{event['report_id']}:service:{event['service_code']}"
    if event["service_email"]:
        yield {
            "channel": "email", "purpose": "report", "recipient": event["service_email"],
            "report_id": event["report_id"], "dedupe_key": f"{key}:email",
            **_written(writer, "email/report_to_service", None, report=report.for_staff),
            "headers": {"Message-ID": _message_id(f"{key}:email", writer)},
        }
    if event["service_webhook"]:
        yield {
            "channel": "webhook", "purpose": "report", "recipient": event["service_webhook"],
            "report_id": event["report_id"], "dedupe_key": f"{key}:webhook",
            "body": json.dumps({"event": f"report.{event['kind']}",
                                "report": report.for_staff}),
            "headers": {"X-Civic-Event": f"report.{event['kind']}"},
        }
    if event["service_open311"]:
        yield from open311_client.request_messages(report.db, event, writer.links)


def private_link_message(event, report, writer):
    link = writer.links.manage(event["report_id"], event["token"])
    key = f"report:{event['report_id']}:private-link"
    return {
        "channel": "email", "purpose": "private_link", "recipient": event["reporter_email"],
        "report_id": event["report_id"], "dedupe_key": key,
        **_written(writer, "email/private_link", event["locale"], report=report, link=link),
        "headers": {"Message-ID": _message_id(key, writer)},
    }


def report_alerts(db, event, report, writer, update=None):
    for subscription in subscription_rows.report_subscribers(db, event["report_id"]):
        yield alert_message(subscription, f"event:{event['event_id']}", "email/report_alert",
                            writer, report=report, event=event, update=update)


def area_alerts(db, event, report, area_subscriptions, writer):
    lon, lat = event["lon"], event["lat"]
    matching = [*subscription_rows.radius_subscribers(db, lon, lat), *(
        s for s in area_subscriptions
        if s["min_lon"] <= lon <= s["max_lon"] and s["min_lat"] <= lat <= s["max_lat"]
        and covers_point(s["geometry"], lon, lat))]
    for subscription in matching:
        yield alert_message(subscription, f"event:{event['event_id']}", "email/area_alert",
                            writer, report=report)


def alert_message(subscription, occasion, template, writer, **context):
    """An alert to one subscriber, with a one-click unsubscribe (RFC 8058)."""
    unsubscribe = writer.links.unsubscribe(subscription["token"])
    report_url = writer.links.report(context["report"]["id"])
    key = f"{occasion}:subscription:{subscription['id']}"
    return {
        "channel": "email", "purpose": "alert", "recipient": subscription["email"],
        "report_id": context["report"]["id"], "dedupe_key": key,
        **_written(writer, template, subscription["locale"], unsubscribe=unsubscribe,
                   report_url=report_url, **context),
        "headers": {"Message-ID": _message_id(key, writer),
                    "List-Unsubscribe": f"<{unsubscribe}>",
                    "List-Unsubscribe-Post": "List-Unsubscribe=One-Click"},
    }


def confirmation_message(subscription, describe, writer):
    """The double opt-in e-mail: nothing is sent to this address until it is confirmed."""
    confirm = writer.links.confirm_subscription(subscription["token"])
    key = f"subscription:{subscription['id']}:confirm:{secrets.token_hex(4)}"
    return {
        "channel": "email", "purpose": "confirm", "recipient": subscription["email"],
        "dedupe_key": key, "report_id": subscription["report_id"],
        **_written(writer, "email/confirm_subscription", subscription["locale"],
                   confirm=confirm, describe=describe),
        "headers": {"Message-ID": _message_id(key, writer)},
    }


def support_confirmation_message(report, email, token, locale, writer):
    """The e-mail that makes a "me too" given with this address count, once its owner
    presses the button behind the link."""
    confirm = writer.links.confirm_support(token)
    key = f"support:{report['id']}:confirm:{secrets.token_hex(8)}"
    return {
        "channel": "email", "purpose": "confirm", "recipient": email,
        "dedupe_key": key, "report_id": report["id"],
        **_written(writer, "email/confirm_support", locale, confirm=confirm, report=report),
        "headers": {"Message-ID": _message_id(key, writer)},
    }


def links_message(email, reports, locale, writer, nonce):
    """The private links of a resident's reports, asked for again on /reports/mine."""
    key = f"private-links:{nonce}"
    return {
        "channel": "email", "purpose": "private_link", "recipient": email, "dedupe_key": key,
        **_written(writer, "email/private_links", locale, reports=reports),
        "headers": {"Message-ID": _message_id(key, writer)},
    }


def _report_for_staff(db, report_id, links):
    """What a service needs to act: the report, its contact, links and public photos."""
    row = staff_rows.report(db, report_id)
    photos = [p for p in staff_rows.all_photos(db, report_id) if not p["hidden"]]
    return {
        "id": row["id"], "category": row["category"], "category_code": row["category_code"],
        "service": row["service"], "service_code": row["service_code"], "area": row["area"],
        "status": row["status"], "description": row["description"],
        "lon": row["lon"], "lat": row["lat"], "address": row["address_string"] or row["address"],
        "created_at": row["created_at"],
        "reporter_name": row["reporter_name"], "reporter_email": row["reporter_email"],
        "url": links.report(report_id), "staff_url": links.staff_report(report_id),
        "photos": [links.staff_photo(report_id, p["display_name"]) for p in photos],
        "answers": [{key: a[key] for key in ("code", "question", "value", "shown", "public")}
                    for a in question_rows.report_answers(db, report_id, public_only=False)],
    }


def _written(writer, template, locale, **context):
    """An e-mail's subject and body from ``template``'s two files, in ``locale``. The subject
    is kept on one line: category, area and service names come from staff and boundary
    files, and a line break in one must not start a new header."""
    return {"subject": one_line(writer.render(f"{template}.subject.txt", locale, **context)),
            "body": writer.render(f"{template}.txt", locale, **context)}


def _message_id(key, writer):
    """A stable Message-ID, so a repeated delivery is recognisably the same e-mail. The key
    holds a service code, so anything but letters, digits, dots, hyphens and underscores
    is replaced."""
    return f"<{MESSAGE_ID_UNSAFE.sub('-', key.replace(':', '.'))}@{writer.links.host}>"
