"""Residents' pages: report a problem, see a report; and the small APIs the form uses."""

import re
import secrets

from flask import (
    Blueprint,
    current_app,
    flash,
    jsonify,
    redirect,
    render_template,
    request,
    send_file,
    url_for,
)
from flask_babel import gettext as _

from app.errors import AppError, NotCovered, NotFound, ServerBusy, ValidationError
from app.messaging.confirmations import Budget
from app.reporting import public, supports, updates
from app.reporting.photos import photo_position
from app.reporting.submit import Limits, Submission, submit_report
from app.storage import areas as area_rows
from app.storage import catalog
from app.storage import questions as question_rows
from app.storage import reports as report_rows
from app.storage import updates as update_rows
from app.web import assets, manage_page, maps, phone_form, place_form, question_fields
from app.web.db import get_db, get_photo_store, get_router
from app.web.emails import EmailWriter
from app.web.extensions import photo_position_limit, report_creation_limit, support_limit
from app.web.i18n import current_language, message_of
from app.web.links import Links
from geo.coords import parse_lon_lat
from geo.errors import InvalidCoordinates

bp = Blueprint("reports", __name__)
PHOTO_NAME = re.compile(r"^[0-9a-f]{64}\.jpg$")
ONE_YEAR = 365 * 24 * 3600


def tiles():
    return maps.Tiles.from_settings(current_app.config)


@bp.get("/")
def home():
    return render_template("reports/home.html", recent=report_rows.recent_reports(get_db(), 10))


@bp.get("/report/new")
def new_report():
    values, place_search = place_form.from_args(request.args, get_db())
    return render_form(values, place_search=place_search), place_search.status


@bp.post("/report/new")
@report_creation_limit
def create_report():
    form = request.form
    if form.get("show_questions"):
        return render_form(form)  # without JavaScript: the chosen category's questions
    submission = Submission(
        lon=form.get("lon"),
        lat=form.get("lat"),
        category=form.get("category"),
        description=form.get("description"),
        reporter_name=form.get("name"),
        reporter_email=form.get("email"),
        show_name=form.get("show_name") == "yes",
        photos=uploaded_photos(),
        locale=current_language(),
        answers=question_fields.answers_in(form),
        submission_key=form.get("submission_key"),
        staged_photo_ids=phone_form.staged_ids(form),
        photo_owner=phone_form.owner_token(),
    )
    try:
        report_id = submit_report(get_db(), get_router(), get_photo_store(), submission,
                                  Limits.from_settings(current_app.config))
    except AppError as error:
        return render_form(form, error), error.status, error.headers
    flash(url_for("reports.manage_report", report_id=report_id,
                  token=report_rows.report_token(get_db(), report_id), _external=True),
          "private-link")
    return redirect(url_for("reports.show_report", report_id=report_id), code=303)


def uploaded_photos():
    """The bytes of each non-empty file sent as ``photos``."""
    files = [f for f in request.files.getlist("photos") if f.filename or f.content_length]
    return [data for data in (f.read() for f in files) if data]


def render_form(values, error=None, place_search=None):
    db = get_db()
    bounds = area_rows.coverage_bounds(db)
    view = maps.MapView.from_settings(current_app.config)
    picker = maps.area_map(bounds, tiles(), assets.map_assets(), view) if bounds else None
    return render_template(
        "reports/new.html",
        values=values,
        error=error,
        categories=catalog.offered_categories(db),
        picker=picker,
        bounds=maps.fit_bounds(bounds, view),
        max_photos=current_app.config["MAX_PHOTOS"],
        **question_fields.form_context(values, error),
        **phone_form.form_context(values, error),
        **place_form.form_context(db, place_search, error),
    )


@bp.get("/reports/<id:report_id>")
def show_report(report_id):
    db = get_db()
    report = public.public_report(db, report_id)
    location = maps.report_map(
        report["lon"], report["lat"], tiles(), assets.map_assets(), report["category"]
    )
    return render_template(
        "reports/show.html",
        report=report,
        photos=report_rows.report_photos(db, report_id),
        events=report_rows.public_events(db, report_id),
        duplicates=report_rows.public_duplicates(db, report_id),
        updates=update_rows.public_updates(db, report_id),
        answers=question_rows.report_answers(db, report_id, public_only=True),
        location=location,
    )


@bp.get("/photos/<name>")
def photo(name):
    """A public photo, cached for ``PHOTO_CACHE_SECONDS`` only (never immutable) so that a
    photo staff hide leaves caches; a hidden or unknown photo is a 404 nobody may keep."""
    path = get_photo_store().path(name) if PHOTO_NAME.match(name) else None
    if path is None or not report_rows.photo_is_public(get_db(), name) or not path.is_file():
        missing = NotFound("There is no such photo.")
        missing.headers = {"Cache-Control": "no-store"}
        raise missing
    response = send_file(path, mimetype="image/jpeg", conditional=True,
                         max_age=current_app.config["PHOTO_CACHE_SECONDS"])
    response.cache_control.public = True
    return response


@bp.get("/api/categories")
def categories_api():
    """All categories, or with ``lon``/``lat`` only those handled at that point."""
    db = get_db()
    if "lon" not in request.args and "lat" not in request.args:
        return jsonify({"categories": catalog.offered_categories(db)})
    try:
        lon, lat = parse_lon_lat(request.args.get("lon"), request.args.get("lat"))
    except InvalidCoordinates as error:
        raise ValidationError.from_text(error) from None
    codes = get_router().categories_at(lon, lat)
    if not codes:
        raise NotCovered("This location is outside the area we cover.")
    return jsonify({"lon": lon, "lat": lat, "categories": catalog.categories_by_code(db, codes)})


@bp.post("/api/photo-position")
@photo_position_limit
def photo_position_api():
    """Where a photo was taken, from its EXIF GPS; nothing is stored."""
    photos = uploaded_photos()
    if len(photos) != 1:
        raise ValidationError("Send exactly one photo as 'photos'.")
    position = photo_position(photos[0], current_app.config["MAX_PHOTO_PIXELS"])
    if position is None:
        return jsonify({"position": None})
    return jsonify({"position": {"lon": position[0], "lat": position[1]}})


SUPPORTER_COOKIE = "supporter"


def supporter_token():
    """This browser's anonymous identity for supports (a random value in a cookie)."""
    return request.cookies.get(SUPPORTER_COOKIE) or secrets.token_urlsafe(18)


def remember_supporter(response, token):
    response.set_cookie(SUPPORTER_COOKIE, token, max_age=ONE_YEAR, httponly=True,
                        samesite="Lax", secure=current_app.config["SESSION_COOKIE_SECURE"])
    return response


@bp.get("/api/reports/nearby")
def nearby_api():
    """Open reports of the same category within 50 m, to support instead of reporting again."""
    found = supports.nearby(get_db(), request.args.get("lon"), request.args.get("lat"),
                            request.args.get("category"), Links())
    return jsonify({"reports": found})


def confirmation_budget():
    """The secret key and the daily confirmation e-mails a mailbox may receive."""
    config = current_app.config
    return Budget(config["SECRET_KEY"], config["CONFIRMATIONS_PER_MAILBOX_PER_DAY"])


def give_support(report_id, token):
    return supports.support(get_db(), report_id, token, request.form.get("email"),
                            confirmation_budget(), current_language(), EmailWriter(current_app))


@bp.post("/api/reports/<id:report_id>/support")
@support_limit
def support_api(report_id):
    token = supporter_token()
    supported = give_support(report_id, token)
    return remember_supporter(jsonify({"id": report_id, "supports": supported.supports,
                                       "confirm_by_email": supported.confirm_by_email}), token)


@bp.post("/reports/<id:report_id>/support")
@support_limit
def support_report(report_id):
    token = supporter_token()
    try:
        supported = give_support(report_id, token)
    except ValidationError as error:
        flash(message_of(error), "error")
    else:
        flash(_("Almost done: we sent you an e-mail. Open the link in it to confirm your "
                "\u201cme too\u201d; it counts once you do.") if supported.confirm_by_email
              else _("Thank you: your \u201cme too\u201d is counted."), "success")
    response = redirect(url_for("reports.show_report", report_id=report_id), code=303)
    return remember_supporter(response, token)


@bp.route("/supports/<token>/confirm", methods=["GET", "POST"])
def confirm_support(token):
    """The link in the confirmation e-mail shows a button: a mail scanner that opens links
    counts nothing. Confirming again, or for a mailbox that already supported, says the same."""
    db = get_db()
    if request.method == "GET":
        return render_template("reports/support_confirm.html", confirmed=False,
                               support=supports.by_token(db, token))
    return render_template("reports/support_confirm.html", confirmed=True,
                           support=supports.confirm(db, token))


@bp.get("/reports/<id:report_id>/manage/<token>")
def manage_report(report_id, token):
    """The reporter's private page: add an update, say it is fixed, or reopen it."""
    return manage_page.render(updates.check_link(get_db(), report_id, token), token)


def reporter_action(report_id, token, action, done):
    try:
        action()
    except AppError as error:
        if error.status == 404 or isinstance(error, ServerBusy):
            raise  # a missing report is a 404; a busy worker a 503 that says when to retry
        flash(message_of(error), "error")
    else:
        flash(done, "success")
    return redirect(url_for("reports.manage_report", report_id=report_id, token=token), code=303)


@bp.post("/reports/<id:report_id>/manage/<token>/update")
@report_creation_limit
def reporter_update(report_id, token):
    photos = uploaded_photos()
    if len(photos) > 1:
        raise ValidationError("Attach one photo to an update.")
    return reporter_action(report_id, token, lambda: updates.add_update(
        get_db(), get_photo_store(), report_id, token, request.form.get("text"),
        photos[0] if photos else None, current_app.config["MAX_PHOTO_PIXELS"],
    ), _("Your update is published on the report page."))


@bp.post("/reports/<id:report_id>/manage/<token>/fixed")
def reporter_fixed(report_id, token):
    if manage_page.needs_confirmation(request.form):
        return manage_page.confirmation(report_id, token, "fixed", request.form.get("note"))
    return reporter_action(report_id, token, lambda: updates.mark_fixed(
        get_db(), report_id, token, request.form.get("note")), _("Marked as fixed. Thank you!"))


@bp.post("/reports/<id:report_id>/manage/<token>/reopen")
def reporter_reopen(report_id, token):
    if manage_page.needs_confirmation(request.form):
        return manage_page.confirmation(report_id, token, "reopen", request.form.get("note"))
    return reporter_action(report_id, token, lambda: updates.reopen(
        get_db(), report_id, token, request.form.get("note")),
        _("Reopened: the service will see it."))



@bp.post("/reports/<id:report_id>/reopen-request")
@report_creation_limit
def reopen_request(report_id):
    photos = uploaded_photos()
    if len(photos) > 1:
        raise ValidationError("Attach one photo.")
    try:
        updates.request_reopen(get_db(), get_photo_store(), report_id, request.form.get("text"),
                               photos[0] if photos else None,
                               current_app.config["MAX_PHOTO_PIXELS"])
    except ValidationError as error:
        flash(message_of(error), "error")
    else:
        flash(_("Thank you: the service will look at it again."), "success")
    return redirect(url_for("reports.show_report", report_id=report_id), code=303)

