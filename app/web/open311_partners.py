"""POST servicerequestupdates: a partner's comments and status changes on our requests.

The FixMyStreet shape (``service_request_id``, ``update_id`` or ``update_id_ext``,
``status``, ``updated_datetime``, ``description``, ``media_url``, ``api_key``...), recorded
as an update event by the key's organisation, once per ``update_id``: a repeat answers the
same and records nothing.
"""

from flask import request

from app.dispatch import outside_updates
from app.errors import Forbidden, NotFound, ValidationError
from app.ids import row_id
from app.reporting.client_fields import check_media_urls
from app.reporting.georeport import parse_datetime
from app.web import api_limits
from app.web.db import get_db
from app.web.extensions import open311_key_limit
from app.web.open311 import FORMAT, KEY_IN_URL, bp
from app.web.open311_formats import render


@bp.post(f"/servicerequestupdates.{FORMAT}")
@open311_key_limit
def post_request_update(fmt):
    if "api_key" in request.args:
        raise ValidationError(KEY_IN_URL)
    organisation = api_limits.request_key()
    if organisation is None:
        raise Forbidden("A valid api_key is required to post an update.")
    update = _update_from_form(request.form)
    outside_updates.record(get_db(), f"api-key:{organisation['id']}", update,
                           f"Open311: {organisation['name']}")
    return render([{"update_id": update.update_id}], fmt, "service_request_updates")


def _update_from_form(form):
    report_id = row_id(form.get("service_request_id"))
    if report_id is None:
        raise NotFound(f"There is no service request {form.get('service_request_id')!r}.")
    at = form.get("updated_datetime")
    if at:
        parse_datetime(at, "updated_datetime")
    media = check_media_urls(form.getlist("media_url"), 1)
    return outside_updates.OutsideUpdate(
        update_id=form.get("update_id") or form.get("update_id_ext") or "",
        report_id=report_id, status=form.get("status"), note=form.get("description"),
        at=at, media_url=media[0] if media else None)
