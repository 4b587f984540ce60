"""Updates from outside systems: a partner's POST servicerequestupdates, or a city's Open311
server polled by ``open311 fetch-updates``.

Their status words are mapped to ours (a sensible default, which a service can override),
and each update is recorded once per source and update id as a report event, with its public
note: the public page, followers' alerts and our own Open311 output then carry it like a
dispatcher's change. The outside system is the authority on its own work, so its change is
taken whatever our workflow would allow a dispatcher.
"""

from dataclasses import dataclass

from app.errors import NotFound, ValidationError
from app.fields import check_xml_safe
from app.statuses import OPEN_STATUSES, STATUSES
from app.storage import open311 as open311_rows
from app.storage import queue as staff_rows
from app.storage import reports as report_rows

NOTE_MAX_LENGTH = 2000
ID_MAX_LENGTH = 100
#: Their words (case and spaces ignored) for our statuses. "open" keeps an open report as it
#: is; None: the update is a note and the status stays.
DEFAULT_STATUS_MAP = {
    "open": "open", "investigating": "acknowledged", "acknowledged": "acknowledged",
    "action_scheduled": "in_progress", "in_progress": "in_progress", "fixed": "fixed",
    "closed": "closed", "no_further_action": "closed", "duplicate": "closed",
    "not_responsible": "rejected", "not_councils_responsibility": "rejected",
    "internal_referral": "rejected",
}
#: Our statuses that need a reason, and the one an outside update gives.
REASONS = {
    "closed": "Closed in %(source)s's system (%(status)s).",
    "rejected": "Not the responsibility of this service, says %(source)s's system.",
}


@dataclass(frozen=True)
class OutsideUpdate:
    """One update as an outside system sent it."""

    update_id: str
    report_id: int
    status: str | None
    note: str | None = None
    at: str | None = None
    media_url: str | None = None


def status_word(word):
    """Their status word in the form the maps use.

    >>> status_word(" Not Councils Responsibility "), status_word("IN_PROGRESS")
    ('not_councils_responsibility', 'in_progress')
    """
    return "_".join((word or "").strip().lower().replace("-", " ").split())


def our_status(their_status, current, overrides=None):
    """Our status for theirs (None: keep ours); ValidationError for a word we cannot map."""
    if not their_status:
        return None
    word = status_word(their_status)
    mapping = {**DEFAULT_STATUS_MAP, **(overrides or {})}
    if word not in mapping and word not in STATUSES:
        raise ValidationError("status %(status)r is not one we know: use open, closed, "
                              "investigating, in_progress, fixed, not_responsible or "
                              "duplicate.", status=their_status)
    ours = mapping.get(word, word)
    if ours == "open":
        return None if current in OPEN_STATUSES else "acknowledged"
    return None if ours == current else ours


def record(db, source, update, actor, overrides=None):
    """Take ``update`` in once: an event by ``actor`` when it changes the status or carries
    a note (one that says the report is still open, as it is, adds nothing to its history);
    return whether it was new. A repeat (same source and update_id) returns False.
    """
    update_id = _checked_id(update.update_id)
    note = _note(update.note)
    with db.atomic():
        if open311_rows.was_received(db, source, update_id):
            return False
        current = open311_rows.report_status(db, update.report_id)
        if current is None:
            raise NotFound(f"There is no service request {update.report_id}.")
        to_status = our_status(update.status, current[0], overrides)
        _apply(db, update, actor, current[0], to_status, note, source)
        open311_rows.mark_received(db, source, update_id, update.report_id)
    return True


def _apply(db, update, actor, from_status, to_status, note, source):
    details = {"source": source, "update_id": update.update_id,
               "their_status": update.status or "", "their_time": update.at or ""}
    if update.media_url:
        details["media_url"] = update.media_url
    if to_status in REASONS:
        details["reason"] = REASONS[to_status] % {"source": source,
                                                  "status": update.status}
    if to_status:
        staff_rows.set_status(db, update.report_id, to_status)
    if to_status or note:
        report_rows.add_event(db, update.report_id, "status", actor, from_status=from_status,
                              to_status=to_status or from_status, public_note=note,
                              details=details)


def _checked_id(update_id):
    update_id = (update_id or "").strip()
    if not update_id or len(update_id) > ID_MAX_LENGTH:
        raise ValidationError("update_id is required (at most %(limit)s characters): it "
                              "makes a repeated update harmless.", limit=ID_MAX_LENGTH)
    return check_xml_safe(update_id, "update_id")


def _note(text):
    note = (text or "").strip() or None
    if note and len(note) > NOTE_MAX_LENGTH:
        raise ValidationError("description is longer than %(limit)s characters.",
                              limit=NOTE_MAX_LENGTH)
    return check_xml_safe(note, "description")
