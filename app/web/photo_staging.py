"""Photos uploaded as the resident chooses them (``POST /api/photos``), before the report is
sent; each visible only to the browser that sent it, through its owner cookie."""

from flask import jsonify, request, send_file, url_for

from app.errors import ValidationError
from app.reporting import staging
from app.web.db import get_db, get_photo_store
from app.web.extensions import photo_staging_limit
from app.web.phone_form import owner_token, remember_owner, rules
from app.web.reports import bp


def one_upload():
    """The bytes of the one file sent as ``photo``."""
    files = [f for f in request.files.getlist("photo") if f.filename or f.content_length]
    data = [f.read() for f in files]
    if len(data) != 1 or not data[0]:
        raise ValidationError("Send exactly one photo as 'photo'.")
    return data[0]


def described(photo):
    """What the form needs of a staged photo: its id, thumbnail and proposed position."""
    position = {"lon": photo.gps[0], "lat": photo.gps[1]} if photo.gps else None
    return {"id": photo.id, "position": position,
            "thumbnail_url": url_for("reports.staged_thumbnail", photo_id=photo.id)}


@bp.post("/api/photos")
@photo_staging_limit
def stage_photo():
    """Check, prepare and keep one photo for this browser; 201 with its id and thumbnail."""
    token = owner_token() or staging.new_owner_token()
    photo = staging.stage_photo(get_db(), get_photo_store(), token, one_upload(), rules())
    return remember_owner(jsonify(described(photo)), token), 201


@bp.get("/api/photos/<photo_id>/thumbnail")
def staged_thumbnail(photo_id):
    """The thumbnail of one of this browser's staged photos; private, never shared."""
    name = staging.thumbnail_of(get_db(), owner_token(), photo_id, rules().max_age_hours)
    response = send_file(get_photo_store().path(name), mimetype="image/jpeg", max_age=3600)
    response.cache_control.private = True
    return response


@bp.delete("/api/photos/<photo_id>")
def remove_staged_photo(photo_id):
    """The resident removes a photo from the form."""
    staging.unstage(get_db(), owner_token(), photo_id)
    return "", 204
