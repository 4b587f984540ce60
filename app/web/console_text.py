"""The console's words in the reader's language: history events, priorities and due times
("due in 3 hours", "overdue by 2 days"). Template globals, so the console's pages and the
e-mails it sends (the assignee's, the overdue digest) say the same."""

import json
from datetime import UTC, datetime

from babel.dates import format_timedelta
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from app import localtime
from app.statuses import STATUSES
from app.web.i18n import name_of
from app.web.local_time import city_zone, local_datetime

PRIORITY_LABELS = {
    "low": _l("Low"),
    "normal": _l("Normal"),
    "high": _l("High"),
    "urgent": _l("Urgent"),
}


def register(blueprint):
    """Make these words template globals of the whole app (e-mails render outside the
    console's requests)."""
    for function in (event_text, event_details, due_text, priority_label, digest_line,
                     is_overdue, actor_name, source_name):
        blueprint.add_app_template_global(function)
    blueprint.add_app_template_global(PRIORITY_LABELS, "priority_labels")


def priority_label(code):
    return str(PRIORITY_LABELS.get(code, code))


def actor_name(actor):
    """Who did it: a staff e-mail as it is, the app's own actors in words."""
    words = {"system": _("the system"), "reporter": _("the reporter"),
             "public": _("a resident"), "web": _("the web form"), "open311": _("Open311")}
    return words.get(actor, actor)


def source_name(source):
    """How a report arrived: the web form, Open311, or a partner system's name."""
    return {"web": _("the web form"), "open311": _("Open311")}.get(source, source)


def _status(code):
    return str(STATUSES.get(code, code or ""))


def event_text(event):
    """What happened, in a few words: "Status: New → Acknowledged", "Assigned to ..."."""
    details = json.loads(event["details"] or "{}")
    kind = event["kind"]
    if kind == "status" and event["from_status"] != event["to_status"]:
        return _("Status: %(before)s → %(after)s", before=_status(event["from_status"]),
                 after=_status(event["to_status"]))
    simple = _simple_event_words()
    if kind in simple:
        return simple[kind]
    if kind == "assigned":
        return (_("Assigned to %(name)s", name=details["to"]) if details.get("to")
                else _("Assignee removed"))
    if kind == "priority":
        return _("Priority: %(before)s → %(after)s", before=priority_label(details.get("from")),
                 after=priority_label(details.get("to")))
    if kind in ("photo_hidden", "photo_shown"):
        number = details.get("photo", "")
        return (_("Photo %(number)s hidden", number=number) if kind == "photo_hidden"
                else _("Photo %(number)s public again", number=number))
    return kind.replace("_", " ")


def _simple_event_words():
    return {
        "created": _("Reported"),
        "status": _("Public note"),
        "note": _("Internal note"),
        "reassigned": _("Sent to another service"),
        "rerouted": _("Sent to another service by the new boundaries"),
        "hidden": _("Hidden from the public"),
        "shown": _("Public again"),
        "redacted": _("Public text redacted"),
        "update": _("Update from the reporter"),
        "reopen_requested": _("Someone says it is not fixed"),
        "update_hidden": _("Resident's update hidden"),
        "update_shown": _("Resident's update public again"),
        "contact_erased": _("Reporter's contact erased"),
    }


def event_details(event):
    """The event's extra facts in words (services, the original report, the reason)."""
    details = json.loads(event["details"] or "{}")
    words = []
    if details.get("to_service"):
        words.append(_("From %(before)s to %(after)s",
                       before=name_of("service", details.get("from_service"),
                                      details.get("from_service")),
                       after=name_of("service", details["to_service"], details["to_service"])))
    if details.get("duplicate_of"):
        words.append(_("Duplicate of #%(id)s", id=details["duplicate_of"]))
    if details.get("reason"):
        words.append(_("Reason: %(reason)s", reason=details["reason"]))
    return words


def is_overdue(due_at, now=None):
    return bool(due_at) and due_at < (now or datetime.now(UTC)).isoformat(timespec="seconds")


def due_text(due_at, now=None):
    """"due in 3 hours" or "overdue by 2 days" (empty without a due time)."""
    if not due_at:
        return ""
    left = localtime.in_zone(due_at, city_zone()) - (now or datetime.now(UTC))
    locale = get_locale() or "en"
    if left.total_seconds() < 0:
        return _("overdue by %(time)s", time=format_timedelta(-left, locale=locale))
    return _("due in %(time)s", time=format_timedelta(left, locale=locale))


def digest_line(report, now=None):
    """One line of the overdue digest: number, category, place, how late, who has it."""
    place = report["address"] or f"{report['lat']:.6f}, {report['lon']:.6f}"
    who = report["assignee"] or _("nobody")
    return _("#%(id)s %(category)s, %(place)s: %(due)s (due %(time)s), assigned to %(who)s",
             id=report["id"], place=place, due=due_text(report["due_at"], now),
             time=local_datetime(report["due_at"]), who=who,
             category=name_of("category", report["category_code"], report["category"]))
