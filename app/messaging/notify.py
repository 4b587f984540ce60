"""Who must hear about what: turns report events into outbox messages.

The events table is the source of truth. The worker reads events past a cursor and writes
their messages and the new cursor in one transaction, so an event is planned exactly once
even if the worker stops half way; each message also has a dedupe key (a report goes to a
service once per channel; an alert once per event and address).
"""

import json
import re
import secrets
from urllib.parse import urlsplit

from flask import current_app, render_template
from flask_babel import force_locale

from app.messaging.message_headers import one_line
from app.storage import outbox as outbox_rows
from app.storage import queue as staff_rows
from app.storage import reports as report_rows
from app.storage import subscriptions as subscription_rows
from app.storage import updates as update_rows
from app.web.links import public_url
from geo.routing import covers_point

BATCH = 500
SERVICE_EVENTS = {"created", "reassigned", "rerouted"}
MESSAGE_ID_UNSAFE = re.compile(r"[^A-Za-z0-9._-]")


def plan_notifications(db):
    """Write the messages of every new event to the outbox; return how many were added."""
    added = 0
    while True:
        with db.atomic():
            events = outbox_rows.events_after(db, outbox_rows.event_cursor(db), BATCH)
            if not events:
                return added
            areas = subscription_rows.area_subscriptions_with_geometry(db)
            for event in events:
                for message in messages_for(db, event, areas):
                    added += outbox_rows.enqueue(db, message)
            outbox_rows.advance_event_cursor(db, events[-1]["event_id"])


def messages_for(db, event, area_subscriptions):
    if event["kind"] in SERVICE_EVENTS:
        yield from service_messages(db, event)
    if event["kind"] == "created" and event["reporter_email"] and event["token"]:
        yield private_link_message(db, event)
    if event["hidden"]:
        return
    if event["kind"] == "created":
        yield from area_alerts(db, event, area_subscriptions)
    elif event["kind"] in ("update", "reopen_requested"):
        update = _public_update_text(db, event)
        if update is not None:
            yield from report_alerts(db, event, update)
    elif event["kind"] == "reassigned" or (
            event["kind"] == "status"
            and (event["from_status"] != event["to_status"] or event["public_note"])):
        yield from report_alerts(db, event)


def _public_update_text(db, event):
    """The text of the update an event records, unless staff hid it."""
    update_id = json.loads(event["details"]).get("update")
    return next((u["text"] for u in update_rows.public_updates(db, event["report_id"])
                 if u["id"] == update_id), None)


def service_messages(db, event):
    """The report for the service now responsible: e-mail and/or webhook, as configured."""
    if not (event["service_email"] or event["service_webhook"]):
        return
    report = _report_for_staff(db, event["report_id"])
    key = f"report:{event['report_id']}:service:{event['service_code']}"
    if event["service_email"]:
        with force_locale(current_app.config["BABEL_DEFAULT_LOCALE"]):
            yield {
                "channel": "email", "purpose": "report", "recipient": event["service_email"],
                "report_id": event["report_id"], "dedupe_key": f"{key}:email",
                "subject": _subject("email/report_to_service.subject.txt", report=report),
                "body": render_template("email/report_to_service.txt", report=report),
                "headers": {"Message-ID": _message_id(f"{key}:email")},
            }
    if event["service_webhook"]:
        yield {
            "channel": "webhook", "purpose": "report", "recipient": event["service_webhook"],
            "report_id": event["report_id"], "dedupe_key": f"{key}:webhook",
            "body": json.dumps({"event": f"report.{event['kind']}", "report": report}),
            "headers": {"X-Civic-Event": f"report.{event['kind']}"},
        }


def private_link_message(db, event):
    link = public_url("reports.manage_report", report_id=event["report_id"], token=event["token"])
    report = report_rows.public_report(db, event["report_id"]) or _report_for_staff(
        db, event["report_id"])
    key = f"report:{event['report_id']}:private-link"
    with force_locale(event["locale"] or current_app.config["BABEL_DEFAULT_LOCALE"]):
        return {
            "channel": "email", "purpose": "private_link", "recipient": event["reporter_email"],
            "report_id": event["report_id"], "dedupe_key": key,
            "subject": _subject("email/private_link.subject.txt", report=report),
            "body": render_template("email/private_link.txt", report=report, link=link),
            "headers": {"Message-ID": _message_id(key)},
        }


def report_alerts(db, event, update=None):
    report = report_rows.public_report(db, event["report_id"])
    for subscription in subscription_rows.report_subscribers(db, event["report_id"]):
        yield alert_message(subscription, f"event:{event['event_id']}",
                            "email/report_alert", report=report, event=event, update=update)


def area_alerts(db, event, area_subscriptions):
    report = report_rows.public_report(db, event["report_id"])
    lon, lat = event["lon"], event["lat"]
    matching = [*subscription_rows.radius_subscribers(db, lon, lat), *(
        s for s in area_subscriptions
        if s["min_lon"] <= lon <= s["max_lon"] and s["min_lat"] <= lat <= s["max_lat"]
        and covers_point(s["geometry"], lon, lat))]
    for subscription in matching:
        yield alert_message(subscription, f"event:{event['event_id']}",
                            "email/area_alert", report=report)


def alert_message(subscription, occasion, template, **context):
    """An alert to one subscriber, with a one-click unsubscribe (RFC 8058)."""
    unsubscribe = public_url("reports.unsubscribe", token=subscription["token"])
    key = f"{occasion}:subscription:{subscription['id']}"
    with force_locale(subscription["locale"]):
        return {
            "channel": "email", "purpose": "alert", "recipient": subscription["email"],
            "report_id": context["report"]["id"], "dedupe_key": key,
            "subject": _subject(f"{template}.subject.txt", **context),
            "body": render_template(f"{template}.txt", unsubscribe=unsubscribe, **context),
            "headers": {"Message-ID": _message_id(key),
                        "List-Unsubscribe": f"<{unsubscribe}>",
                        "List-Unsubscribe-Post": "List-Unsubscribe=One-Click"},
        }


def confirmation_message(subscription, describe):
    """The double opt-in e-mail: nothing is sent to this address until it is confirmed."""
    confirm = public_url("reports.confirm_subscription", token=subscription["token"])
    key = f"subscription:{subscription['id']}:confirm:{secrets.token_hex(4)}"
    with force_locale(subscription["locale"]):
        return {
            "channel": "email", "purpose": "confirm", "recipient": subscription["email"],
            "dedupe_key": key, "report_id": subscription["report_id"],
            "subject": _subject("email/confirm_subscription.subject.txt"),
            "body": render_template("email/confirm_subscription.txt", confirm=confirm,
                                    describe=describe),
            "headers": {"Message-ID": _message_id(key)},
        }


def support_confirmation_message(report, email, token, locale):
    """The e-mail that makes a "me too" given with this address count, once its owner
    presses the button behind the link."""
    confirm = public_url("reports.confirm_support", token=token)
    key = f"support:{report['id']}:confirm:{secrets.token_hex(8)}"
    with force_locale(locale):
        return {
            "channel": "email", "purpose": "confirm", "recipient": email,
            "dedupe_key": key, "report_id": report["id"],
            "subject": _subject("email/confirm_support.subject.txt"),
            "body": render_template("email/confirm_support.txt", confirm=confirm,
                                    report=report),
            "headers": {"Message-ID": _message_id(key)},
        }


def _report_for_staff(db, report_id):
    """What a service needs to act: the report, its contact, links and public photos."""
    row = staff_rows.report(db, report_id)
    photos = [p for p in staff_rows.all_photos(db, report_id) if not p["hidden"]]
    return {
        "id": row["id"], "category": row["category"], "category_code": row["category_code"],
        "service": row["service"], "service_code": row["service_code"], "area": row["area"],
        "status": row["status"], "description": row["description"],
        "lon": row["lon"], "lat": row["lat"], "created_at": row["created_at"],
        "reporter_name": row["reporter_name"], "reporter_email": row["reporter_email"],
        "url": public_url("reports.show_report", report_id=report_id),
        "staff_url": public_url("dispatch.report", report_id=report_id),
        "photos": [public_url("dispatch.photo", report_id=report_id, name=p["display_name"])
                   for p in photos],
    }


def _subject(template, **context):
    """A rendered subject on one line: category, area and service names come from staff
    and boundary files, and a line break in one must not start a new header."""
    return one_line(render_template(template, **context))


def _message_id(key):
    """A stable Message-ID, so a repeated delivery is recognisably the same e-mail. The key
    holds a service code, so anything but letters, digits, dots, hyphens and underscores
    is replaced."""
    host = urlsplit(current_app.config["PUBLIC_URL"]).hostname or "localhost"
    return f"<{MESSAGE_ID_UNSAFE.sub('-', key.replace(':', '.'))}@{host}>"
