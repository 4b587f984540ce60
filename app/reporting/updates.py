"""What a reporter does through their private link: add an update, say it is fixed, reopen.

The link carries the report's unguessable token; a wrong token is a 404, as for a report
that does not exist, so links cannot be probed.
"""

import hmac

from app.dispatch import workflow
from app.errors import NotFound, ValidationError
from app.reporting import public
from app.reporting.photos import prepare_photo, storing_photos
from app.storage import reports as report_rows
from app.storage import updates as update_rows

UPDATE_MAX_LENGTH = 2000
REPORTER = "reporter"
PUBLIC = "public"


def check_link(db, report_id, token):
    """The public report behind a private link, or NotFound."""
    report = report_rows.public_report(db, report_id)
    stored = report_rows.report_token(db, report_id) if report else None
    if not stored or not hmac.compare_digest(stored.encode(), (token or "").encode()):
        raise NotFound("This private link is not valid.")
    return report


def add_update(db, store, report_id, token, text, photo_data, max_pixels):
    """Store the reporter's update (text, optional photo) with a public history entry."""
    check_link(db, report_id, token)
    return _store_update(db, store, report_id, REPORTER, "update", text, photo_data, max_pixels)


def request_reopen(db, store, report_id, text, photo_data, max_pixels):
    """Anyone may say a fixed report is not fixed, with a note and a photo; staff decide."""
    report = public.public_report(db, report_id)
    if report["status"] != "fixed":
        raise ValidationError("Only a report marked fixed can be asked to reopen.")
    return _store_update(db, store, report_id, PUBLIC, "reopen_requested", text, photo_data,
                         max_pixels)


def _store_update(db, store, report_id, author, kind, text, photo_data, max_pixels):
    text = (text or "").strip()
    if not text:
        raise ValidationError("Write a few words for your update.")
    if len(text) > UPDATE_MAX_LENGTH:
        raise ValidationError("Updates are limited to %(limit)s characters.",
                              limit=UPDATE_MAX_LENGTH)
    photo = prepare_photo(photo_data, max_pixels) if photo_data else None
    with storing_photos(db, store) as write:
        if photo:
            write(photo)
        update_id = update_rows.add_update(db, report_id, author, text, photo)
        report_rows.add_event(db, report_id, kind, author, details={"update": update_id})
    return update_id


def mark_fixed(db, report_id, token, note):
    check_link(db, report_id, token)
    return workflow.change_status(db, report_id, REPORTER,
                                  workflow.StatusChange("fixed", public_note=note))


def reopen(db, report_id, token, note):
    """The reporter says it is not fixed after all: the report is new again."""
    report = check_link(db, report_id, token)
    if report["status"] not in ("fixed", "closed"):
        raise ValidationError("Only a fixed or closed report can be reopened.")
    if not (note or "").strip():
        raise ValidationError("Say what is still wrong.")
    return workflow.change_status(db, report_id, REPORTER,
                                  workflow.StatusChange("new", public_note=note))
