"""Open311 GeoReport v2 under /open311/v2/, in JSON and XML.

POST requests go through ``submit_report``, the web form's own code path, so they get the
same validation, routing and single transaction; errors come back as the spec's list.
"""

from datetime import UTC, datetime

from flask import Blueprint, current_app, jsonify, request, url_for

from app.errors import Forbidden, NotFound, ValidationError
from app.reporting import georeport, questions
from app.reporting.submit import Limits, submit_report
from app.storage import catalog
from app.storage import open311 as open311_rows
from app.storage import public as public_rows
from app.storage import questions as question_rows
from app.storage import reports as report_rows
from app.web import api_limits, open311_intake, question_fields
from app.web.db import get_db, get_photo_store, get_router
from app.web.extensions import (
    csrf,
    open311_key_limit,
    open311_updates_limit,
    report_creation_limit,
)
from app.web.links import Links
from app.web.open311_formats import render
from app.web.openapi import openapi_document

bp = Blueprint("open311", __name__, url_prefix="/open311/v2")
csrf.exempt(bp)
FORMAT = "<any(json, xml):fmt>"
CHANGESET = "2026-11-22T00:00:00+00:00"
#: URLs are written to access logs (ours, proxies', clients'): a key belongs in the body.
KEY_ONLY_IN_BODY = "Send api_key in the body of POST requests, never in the URL."
KEY_IN_URL = ("api_key must be sent in the request body, not in the URL, where logs keep it; "
              "nothing was stored. " + KEY_ONLY_IN_BODY)


@bp.before_request
def check_jurisdiction():
    jurisdiction = request.values.get("jurisdiction_id")
    if jurisdiction and jurisdiction != current_app.config["OPEN311_JURISDICTION"]:
        raise NotFound(f"Unknown jurisdiction_id {jurisdiction!r}.")


@bp.after_request
def open_to_every_origin(response):
    """Public reads may be used from any web page (CORS); writes may not."""
    if request.method in ("GET", "HEAD"):
        response.headers["Access-Control-Allow-Origin"] = "*"
    return response


@bp.get(f"/discovery.{FORMAT}")
def discovery(fmt):
    return render({
        "changeset": CHANGESET,
        "contact": current_app.config["OPEN311_CONTACT"],
        "key_service": f'{current_app.config["OPEN311_KEY_SERVICE"]} {KEY_ONLY_IN_BODY}',
        "endpoints": [{
            "specification": "http://wiki.open311.org/GeoReport_v2",
            "url": url_for("open311.services", fmt="json", _external=True).rsplit("/", 1)[0],
            "changeset": CHANGESET,
            "type": "production",
            "formats": ["text/xml", "application/json"],
        }],
    }, fmt, "discovery")


def service_records(db):
    groups = catalog.category_groups(db)
    asking = question_rows.categories_with_questions(db)
    return [georeport.service_record(c, groups.get(c["code"], ""), c["code"] in asking)
            for c in catalog.offered_categories(db)]


@bp.get(f"/services.{FORMAT}")
def services(fmt):
    return render(service_records(get_db()), fmt, "services")


@bp.get(f"/services/<service_code>.{FORMAT}")
def service_definition(service_code, fmt):
    if catalog.offered_category(get_db(), service_code) is None:
        raise NotFound(f"There is no service_code {service_code!r}.")
    return render(questions.service_definition(get_db(), service_code), fmt,
                  "service_definition")


def request_records(db, found, extensions):
    notes = public_rows.latest_public_notes(db, [r["id"] for r in found])
    answers = question_rows.answers_of(db, [r["id"] for r in found]) if extensions else {}
    links = Links()
    return [georeport.request_record(
        row, links, notes,
        history=[dict(e) for e in report_rows.public_events(db, row["id"])] if extensions else None,
        answers=questions.open311_answers(answers.get(row["id"], [])),
    ) for row in found]


def wants_extensions():
    return request.args.get("extensions", "").lower() == "true"


@bp.get(f"/requests.{FORMAT}")
def search_requests(fmt):
    db = get_db()
    query, page, page_size = georeport.search(request.args, db)
    found = public_rows.reports_page(db, query, (page - 1) * page_size, page_size)
    return render(request_records(db, found, wants_extensions()), fmt, "service_requests")


@bp.get(f"/requests/<id:service_request_id>.{FORMAT}")
def get_request(service_request_id, fmt):
    db = get_db()
    found = public_rows.reports_page(db, public_rows.ReportQuery(ids=(service_request_id,)), 0, 1)
    if not found:
        raise NotFound(f"There is no service request {service_request_id}.")
    return render(request_records(db, found, wants_extensions()), fmt, "service_requests")


@bp.post(f"/requests.{FORMAT}")
@report_creation_limit
@open311_key_limit
def create_request(fmt):
    db = get_db()
    if "api_key" in request.args:
        raise ValidationError(KEY_IN_URL)
    if not api_limits.is_keyed():
        raise Forbidden("A valid api_key is required to create a service request.")
    submission = open311_intake.submission_from_form(db)
    submission.answers = question_fields.answers_in(request.form)
    limits = Limits.from_settings(current_app.config)
    report_id = submit_report(db, get_router(), get_photo_store(), submission, limits)
    return render([{"service_request_id": str(report_id), "token": submission.request_token,
                    "service_notice": ""}], fmt, "service_requests")


@bp.get(f"/tokens/<token>.{FORMAT}")
def token_lookup(token, fmt):
    report_id = open311_rows.report_for_request_token(get_db(), token)
    if report_id is None:
        raise NotFound("There is no service request for this token.")
    return render([{"service_request_id": str(report_id), "token": token}], fmt,
                  "service_requests")


@bp.get(f"/servicerequestupdates.{FORMAT}")
@open311_updates_limit
def request_updates(fmt):
    start, end = georeport.date_window(request.args.get("start_date"),
                                       request.args.get("end_date"))
    page, page_size = georeport.page_of(request.args)
    events = open311_rows.status_updates_page(get_db(), start.isoformat(), end.isoformat(),
                                              (page - 1) * page_size, page_size)
    return render([georeport.update_record(e) for e in events], fmt,
                  "service_request_updates")


@bp.get("/openapi.json")
def openapi():
    return jsonify(openapi_document(url_for("open311.services", fmt="json",
                                            _external=True).rsplit("/", 1)[0],
                                    datetime.now(UTC).year))
