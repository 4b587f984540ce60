"""What the report form keeps for a resident between tries: its submission key, the photos
staged by this browser (its owner cookie), and each field's problem after a refusal."""

import secrets

from flask import current_app, request, url_for

from app.reporting import staging
from app.web.db import get_db
from app.web.i18n import field_messages

OWNER_COOKIE = "photo_owner"
#: Form fields that a problem may be reported under, in the form's order, and the control
#: to jump to for each; others (a category's questions) come right after the category.
FIELD_TARGETS = {"lon": "map-hint", "category": "category", "description": "description",
                 "photos": "photos", "name": "name", "email": "email"}
FORM_ORDER = {field: rank for rank, field in enumerate(
    ["submission_key", "lon", "category", None, "description", "photos", "name", "email"])}


def owner_token():
    """This browser's staged-photo token, or None before its first upload."""
    return request.cookies.get(OWNER_COOKIE)


def remember_owner(response, token):
    """Keep the token as long as a staged photo lives; HttpOnly, so scripts never see it."""
    response.set_cookie(OWNER_COOKIE, token, max_age=rules().max_age_hours * 3600,
                        httponly=True, samesite="Lax",
                        secure=current_app.config["SESSION_COOKIE_SECURE"])
    return response


def rules():
    return staging.StagingRules.from_settings(current_app.config)


def staged_ids(form):
    return [value for value in form.getlist("staged_photo") if value][:20]


def staged_previews(photo_ids):
    """This browser's staged photos among ``photo_ids``, with their thumbnails."""
    photos = staging.photos_to_show(get_db(), owner_token(), photo_ids, rules().max_age_hours)
    return [{"id": photo_id,
             "thumbnail_url": url_for("reports.staged_thumbnail", photo_id=photo_id)}
            for photo_id in photos]


def in_form_order(problems):
    """The problems as the resident meets their fields, top to bottom."""
    return dict(sorted(problems.items(),
                       key=lambda item: FORM_ORDER.get(item[0], FORM_ORDER[None])))


def form_context(values, error):
    """The form's key (the same one again after a refusal), staged photos and problems."""
    problems = in_form_order(field_messages(error)) if error else {}
    if error and not problems:
        problems = {"form": None}
    return {
        "submission_key": values.get("submission_key") or secrets.token_urlsafe(16),
        "staged": staged_previews(staged_ids(values)) if values else [],
        "problems": problems,
        "photos_dropped": bool(error) and any(f.filename for f in request.files.getlist("photos")),
        "field_targets": FIELD_TARGETS,
    }
