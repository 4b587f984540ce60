"""Who works on a report and how urgently: assignment to one staff member of its service,
and its priority. Each change is an event (who, when, from, to); an assignee may be told by
e-mail through the outbox.
"""

from app.errors import Name, NotFound, ValidationError
from app.messaging.message_headers import one_line
from app.storage import now
from app.storage import outbox as outbox_rows
from app.storage import queue as staff_rows
from app.storage import reports as report_rows

PRIORITIES = ("low", "normal", "high", "urgent")


def assign(db, report_id, actor, assignee_email, writer=None):
    """Assign the report to ``assignee_email``, who must work for its service (empty: to
    nobody). With a ``writer`` (:class:`app.web.emails.EmailWriter`) the assignee is
    e-mailed, unless they assigned themselves. Return whether anything changed."""
    report = _report(db, report_id)
    user = _assignee(db, report, (assignee_email or "").strip())
    if (user["id"] if user else None) == report["assignee_id"]:
        return False
    with db.atomic():
        staff_rows.set_assignee(db, report_id, user["id"] if user else None)
        _event(db, report, "assigned", actor, {"from": report["assignee"],
                                                "to": user["email"] if user else None})
        if writer is not None and user and user["email"].lower() != actor.lower():
            outbox_rows.enqueue(db, assignment_message(report, user["email"], actor, writer))
    return True


def _assignee(db, report, email):
    if not email:
        return None
    user = next((u for u in staff_rows.staff_of(db, [report["service_id"]])
                 if u["email"].lower() == email.lower()), None)
    if user is None:
        raise ValidationError("%(email)s does not work for %(service)s, so report %(id)s "
                              "cannot be assigned to them.", email=email, id=report["id"],
                              service=Name("service", report["service_code"],
                                           report["service"]))
    return user


def assignment_message(report, recipient, actor, writer):
    """The e-mail telling ``recipient`` that report ``report`` is now theirs."""
    context = {"report": report, "actor": actor,
               "link": writer.links.staff_report(report["id"])}
    return {
        "channel": "email", "purpose": "assignment", "recipient": recipient,
        "report_id": report["id"],
        "dedupe_key": f"report:{report['id']}:assigned:{recipient.lower()}:{now()}",
        "subject": one_line(writer.render("email/assigned.subject.txt", None, **context)),
        "body": writer.render("email/assigned.txt", None, **context),
    }


def set_priority(db, report_id, actor, priority):
    """Change the report's priority (low, normal, high, urgent); return whether it changed."""
    if priority not in PRIORITIES:
        raise ValidationError("%(priority)r is not a priority: choose low, normal, high or "
                              "urgent.", priority=priority)
    report = _report(db, report_id)
    if report["priority"] == priority:
        return False
    with db.atomic():
        staff_rows.set_priority(db, report_id, priority)
        _event(db, report, "priority", actor, {"from": report["priority"], "to": priority})
    return True


def _report(db, report_id):
    report = staff_rows.report(db, report_id)
    if report is None:
        raise NotFound("There is no report number %(id)s.", id=report_id)
    return report


def _event(db, report, kind, actor, details):
    report_rows.add_event(db, report["id"], kind, actor, from_status=report["status"],
                          to_status=report["status"], details=details)
