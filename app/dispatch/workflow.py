"""What staff do to a report: status changes, reassignment, duplicates and moderation.

Every change is checked against the workflow and written as one event (who, when, from, to,
public note, internal note) in the same transaction as the change itself.
"""

from dataclasses import dataclass

from app.dispatch import assignment
from app.errors import AppError, NotFound, Text, ValidationError
from app.ids import row_id
from app.statuses import STATUSES, TRANSITIONS
from app.storage import catalog
from app.storage import queue as staff_rows
from app.storage import reports as report_rows
from app.storage import updates as update_rows

NOTE_MAX_LENGTH = 2000


@dataclass(frozen=True)
class StatusChange:
    """What staff (or the reporter) asked for, as sent, before any check."""

    to_status: str
    public_note: str | None = ""
    internal_note: str | None = ""
    reason: str | None = ""
    #: The original report's number, for a duplicate.
    duplicate_of: str | int | None = None
    #: The code of the service a rejected report belongs to.
    reassign_to: str | None = None


def change_status(db, report_id, actor, change, actor_services=None):
    """Make the :class:`StatusChange` by the workflow's rules; return the new status.

    No status (empty) adds the notes alone: a public note is an update the public and the
    followers read (a ``status`` event that keeps the status), an internal one only a
    ``note`` for staff.

    closed needs a reason; duplicate needs the original report, a public one of
    ``actor_services`` (the service ids the actor handles; None for all, as for admins);
    rejected ("not our responsibility") needs a reason or another service, in which case the
    report is reassigned and starts again as new for that service.
    """
    report = _report(db, report_id)
    to_status = change.to_status
    public_note, internal_note = _note(change.public_note), _note(change.internal_note)
    if not to_status:
        return _add_notes(db, report, actor, public_note, internal_note)
    _check_transition(report["status"], to_status)
    reason = (change.reason or "").strip()
    details = {}
    with db.atomic():
        if to_status == "closed" and not reason:
            raise ValidationError("Say why the report is closed without being fixed.")
        if to_status == "duplicate":
            details["duplicate_of"] = _mark_duplicate(db, report, change.duplicate_of,
                                                      actor_services)
        if to_status == "rejected":
            if change.reassign_to:
                _reassign(db, report, actor, change.reassign_to,
                          reason or "Not our responsibility.")
                to_status = "new"
            elif not reason:
                raise ValidationError("Say why it is not your responsibility, or pick the "
                                      "service it belongs to.")
        if reason:
            details["reason"] = reason
        staff_rows.set_status(db, report_id, to_status)
        _add_event(db, report, "status", actor, to_status, public_note=public_note,
                   internal_note=internal_note, details=details)
    return to_status


def _add_notes(db, report, actor, public_note, internal_note):
    if not (public_note or internal_note):
        raise ValidationError("Choose a new status, or write a note.")
    with db.atomic():
        _add_event(db, report, "status" if public_note else "note", actor,
                   public_note=public_note, internal_note=internal_note)
    return report["status"]


def reassign(db, report_id, actor, service_code, reason):
    """Send a report to another service than the routing chose, with a reason."""
    report = _report(db, report_id)
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError("Say why the report goes to another service.")
    with db.atomic():
        _reassign(db, report, actor, service_code, reason)


def _reassign(db, report, actor, service_code, reason):
    service = catalog.services_by_code(db).get(service_code)
    if service is None:
        raise ValidationError("There is no service %(code)r.", code=service_code)
    if service["id"] == report["service_id"]:
        raise ValidationError("The report is already with that service.")
    staff_rows.set_service(db, report["id"], service["id"])
    _add_event(db, report, "reassigned", actor, internal_note=reason,
               details={"from_service": report["service_code"], "to_service": service_code})


def _mark_duplicate(db, report, original_id, actor_services):
    original_id = row_id(original_id)
    if original_id is None:
        raise ValidationError("Give the number of the original report.")
    if original_id == report["id"]:
        raise ValidationError("A report cannot be a duplicate of itself.")
    original = staff_rows.report(db, original_id)
    if not _may_be_original(original, actor_services):
        raise ValidationError("There is no report number %(id)s among the public reports "
                              "you handle.", id=original_id)
    if original["duplicate_of"] == report["id"]:
        raise ValidationError("Report %(id)s is already a duplicate of this one.",
                              id=original_id)
    staff_rows.set_duplicate_of(db, report["id"], original_id)
    return original_id


def _may_be_original(original, actor_services):
    """Whether the public may be sent to ``original`` and the actor sees it: a missing, hidden
    or other service's report is refused alike, so the answer tells nothing about it."""
    return original is not None and not original["hidden"] and (
        actor_services is None or original["service_id"] in actor_services)


def set_hidden(db, report_id, actor, hidden, note=""):
    """Hide a report from the public (or show it again); staff still see it."""
    report = _report(db, report_id)
    with db.atomic():
        staff_rows.set_hidden(db, report_id, hidden)
        _add_event(db, report, "hidden" if hidden else "shown", actor, internal_note=_note(note))


def set_photo_hidden(db, report_id, position, actor, hidden):
    """Hide one photo of a report (or show it again); staff still see it."""
    _set_part_hidden(db, report_id, actor, hidden, "photo", {"photo": position + 1},
                     lambda: staff_rows.set_photo_hidden(db, report_id, position, hidden),
                     Text("Report %(id)s has no photo %(number)s.", id=report_id,
                          number=position + 1))


def set_update_hidden(db, report_id, update_id, actor, hidden):
    """Hide a resident's update (or show it again); staff still see it."""
    _set_part_hidden(db, report_id, actor, hidden, "update", {"update": update_id},
                     lambda: update_rows.set_update_hidden(db, report_id, update_id, hidden),
                     Text("Report %(id)s has no update %(number)s.", id=report_id,
                          number=update_id))


def _set_part_hidden(db, report_id, actor, hidden, part, details, change, missing):
    report = _report(db, report_id)
    with db.atomic():
        if not change():
            raise NotFound.from_text(missing)
        _add_event(db, report, f"{part}_{'hidden' if hidden else 'shown'}", actor,
                   details=details)


def redact(db, report_id, actor, public_text):
    """Replace the public description; the resident's original stays for staff."""
    report = _report(db, report_id)
    public_text = (public_text or "").strip()
    if not public_text:
        raise ValidationError("Give the text the public should see instead.")
    with db.atomic():
        staff_rows.set_public_description(db, report_id, public_text)
        _add_event(db, report, "redacted", actor)


@dataclass(frozen=True)
class BulkChange:
    """What the console's bulk bar asks of every selected report; empty fields keep."""

    status: str | None = None
    note: str | None = ""
    #: The original report's number when the status is duplicate.
    duplicate_of: str | int | None = None
    service: str | None = None
    #: A staff e-mail, or :data:`NOBODY` to clear the assignee.
    assignee: str | None = None
    priority: str | None = None


NOBODY = "-"


def bulk_change(db, report_ids, actor, change, actor_services=None, writer=None):
    """Apply one :class:`BulkChange` to several reports, one event per change, all or none.

    Every report is tried, so a refusal names each report that failed and why
    (:class:`BulkFailed`); then nothing is kept.
    """
    if not report_ids:
        raise ValidationError("Select at least one report.")
    if not any((change.status, change.service, change.assignee, change.priority)):
        raise ValidationError("Choose a status, a service, an assignee or a priority to "
                              "apply.")
    failures = []
    with db.atomic():
        for report_id in report_ids:
            try:
                with db.atomic():
                    _bulk_one(db, report_id, actor, change, actor_services, writer)
            except AppError as error:
                failures.append((report_id, error.text))
        if failures:
            raise BulkFailed(failures)
    return len(report_ids)


def _bulk_one(db, report_id, actor, change, actor_services, writer):
    note = (change.note or "").strip()
    if change.priority:
        assignment.set_priority(db, report_id, actor, change.priority)
    if change.assignee:
        assignment.assign(db, report_id, actor,
                          "" if change.assignee == NOBODY else change.assignee, writer)
    if change.status:
        change_status(db, report_id, actor, StatusChange(
            change.status, public_note=note, reason=note, duplicate_of=change.duplicate_of),
            actor_services=actor_services)
    if change.service:
        reassign(db, report_id, actor, change.service, note or "Bulk reassignment.")


class BulkFailed(ValidationError):
    """Some selected reports refused the change: ``failures`` holds (report id, Text)."""

    def __init__(self, failures):
        self.failures = list(failures)
        super().__init__("%(count)s of the selected reports could not be changed, so none "
                         "was: %(details)s", count=len(self.failures),
                         details="; ".join(f"#{i}: {text}" for i, text in self.failures))


def _report(db, report_id):
    report = staff_rows.report(db, report_id)
    if report is None:
        raise NotFound("There is no report number %(id)s.", id=report_id)
    return report


def _add_event(db, report, kind, actor, to_status=None, **notes_and_details):
    """Record a staff action on ``report``; its status stays unless ``to_status`` is given."""
    report_rows.add_event(db, report["id"], kind, actor, from_status=report["status"],
                          to_status=to_status or report["status"], **notes_and_details)


def _check_transition(current, target):
    if target not in STATUSES:
        raise ValidationError("%(target)r is not a status.", target=target)
    if target not in TRANSITIONS[current]:
        raise ValidationError("A report that is %(current)s cannot become %(target)s.",
                              current=STATUSES[current].lower(),
                              target=STATUSES[target].lower())


def _note(text):
    text = (text or "").strip()
    if len(text) > NOTE_MAX_LENGTH:
        raise ValidationError("Notes are limited to %(limit)s characters.", limit=NOTE_MAX_LENGTH)
    return text
