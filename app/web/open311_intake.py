"""An Open311 POST read into a Submission: every field a client sends is kept or refused.

Photos come in any file part (FixMyStreet names them ``photo1``, ``photo2``...; the spec's
clients ``media``), every ``media_url`` is kept, and ``phone``, ``device_id``,
``account_id``, ``address_string`` and ``address_id`` go to the report; a request with an
address but no lat/long is placed by the gazetteer when it finds that exact address. A
``submission_key`` (20 to 100 letters, digits, - or _) makes a repeated POST answer the
request the first one created, so a client that retries after a lost answer creates one.
"""

from flask import request

from app.errors import NotFound
from app.reporting import client_fields, georeport
from app.reporting.client_fields import ClientFields
from app.reporting.submit import Submission
from app.storage import catalog


def submission_from_form(db):
    """The Submission of this POST; NotFound for a service_code we do not have."""
    form = request.form
    code = form.get("service_code")
    if code and catalog.offered_category(db, code) is None:
        raise NotFound(f"There is no service_code {code!r}.")
    client = ClientFields(
        phone=form.get("phone"), device_id=form.get("device_id"),
        account_id=form.get("account_id"), address_string=form.get("address_string"),
        address_id=form.get("address_id"),
        media_urls=form.getlist("media_url") + form.getlist("media_url[]"),
    )
    lon, lat = _position(db, form, client)
    name = " ".join(p for p in (form.get("first_name"), form.get("last_name")) if p)
    return Submission(
        lon=lon, lat=lat, category=code,
        description=form.get("description"), reporter_name=name or None,
        reporter_email=form.get("email"),
        photos=[upload.read() for _, upload in request.files.items(multi=True)],
        media_url=next(iter(u for u in client.media_urls if u and u.strip()), None),
        source="open311", request_token=georeport.new_request_token(), client=client,
        submission_key=form.get("submission_key"),
    )


def _position(db, form, client):
    """(long, lat) as sent; without them, the address the client gave, placed by the
    gazetteer (and kept as the report's address_string)."""
    lon, lat = form.get("long"), form.get("lat")
    if (lon or "").strip() or (lat or "").strip():
        return lon, lat
    if not ((client.address_string or "").strip() or (client.address_id or "").strip()):
        return lon, lat
    return client_fields.place_address(db, client.address_string, client.address_id)
