"""The public map, the list, the Atom feed and the open-data exports of reports."""

import hashlib
import threading
from datetime import UTC, datetime

from flask import (
    Response,
    current_app,
    jsonify,
    render_template,
    request,
    send_file,
)

from app.fields import xml_safe
from app.ids import page_number
from app.messaging import subscriptions
from app.reporting import exports, public
from app.reporting.areas import areas_feature_collection
from app.statuses import STATUSES
from app.storage import areas as area_rows
from app.storage import catalog
from app.storage import public as public_rows
from app.web import assets, maps
from app.web.db import get_db, streamed
from app.web.extensions import export_limit
from app.web.i18n import current_language
from app.web.links import Links, SiteLinks, link_args
from app.web.local_time import city_zone
from app.web.reports import bp, tiles

PAGE_SIZE = 50
FEED_SIZE = 50


def report_query(require_bbox=False):
    return public.parse_report_query(request.args, get_db(), require_bbox=require_bbox,
                                     zone=city_zone())


def filter_choices(db):
    return {
        "statuses": STATUSES,
        "categories": catalog.all_categories(db),
        "services": catalog.all_services(db),
    }


@bp.get("/map")
def public_map():
    db = get_db()
    bounds = area_rows.coverage_bounds(db) or (-180.0, -85.0, 180.0, 85.0)
    view = maps.MapView.from_settings(current_app.config)
    overview = maps.area_map(bounds, tiles(), assets.map_assets(cluster=True), view)
    return render_template("reports/map.html", overview=overview,
                           bounds=maps.fit_bounds(bounds, view),
                           choices=filter_choices(db), args=link_args(request.args))


EXPORT_TYPES = {"csv": "text/csv; charset=utf-8", "geojson": "application/geo+json"}


def export_slots():
    """This worker's budget of exports being sent at once (EXPORT_CONCURRENCY): a download
    holds a thread until its last byte, so a client that stops reading must not hold them all."""
    return current_app.extensions.setdefault(
        "export_slots", threading.BoundedSemaphore(current_app.config["EXPORT_CONCURRENCY"]))


def export(fmt, query):
    """Every export takes one of this worker's slots until it is sent (else 503); the full
    one is the published file (conditional: 304 when unchanged), a filtered one is streamed
    from the database."""
    slots = export_slots()
    if not slots.acquire(blocking=False):
        raise exports.ExportBusy("Too many exports are being sent right now: try again in a "
                                 "minute.")
    try:
        response = (full_export(fmt) if exports.is_full(query)
                    else filtered_export(fmt, query))
    except BaseException:
        slots.release()
        raise
    response.call_on_close(slots.release)
    return response


def full_export(fmt):
    app = current_app._get_current_object()
    path = exports.file_to_serve(app, get_db(), fmt, SiteLinks(app))
    response = send_file(path, mimetype=EXPORT_TYPES[fmt], conditional=True, etag=True)
    # Passed through, the file would reach the server bare and the response's close (which
    # frees the export slot) would never run; iterated, it is sent in chunks and closed.
    response.direct_passthrough = False
    response.headers["Content-Disposition"] = f'attachment; filename="{exports.FORMATS[fmt][0]}"'
    return response


def filtered_export(fmt, query):
    name, chunks = exports.FORMATS[fmt]
    links = Links()
    return streamed(lambda db: chunks(db, query, links), EXPORT_TYPES[fmt], name)


@bp.get("/api/reports.geojson")
@export_limit
def reports_geojson():
    if "download" in request.args:
        return export("geojson", report_query())
    return map_view(report_query(require_bbox=True),
                    public.parse_cells_across(request.args.get("cells")))


def map_view(query, across):
    """A map view's GeoJSON, written by the database; a view asked again with the ETag it
    was given is a 304 as long as nothing the map shows has changed (one row read). The
    headers are given as text: werkzeug's header objects cost more than writing them."""
    db = get_db()
    text = public.FeatureText.for_reader(current_language(), Links())
    etag = map_etag(public_rows.map_data_version(db), text)
    headers = {"ETag": f'"{etag}"', "Cache-Control": "no-cache",
               "Vary": "Cookie, Accept-Language"}
    if etag in request.if_none_match:
        return Response(status=304, headers=headers)
    answer = public.viewport(db, query, text, current_app.config["MAP_POINT_LIMIT"], across)
    return Response(answer, mimetype="application/geo+json", headers=headers)


def map_etag(version, text):
    """The data version, and what else the same URL's answer depends on: the reader's
    language and the host the links are built on."""
    digest = hashlib.blake2b(f"{text.locale}|{text.report_prefix}".encode(), digest_size=6)
    return f"{version}-{digest.hexdigest()}"


@bp.get("/api/reports.csv")
@export_limit
def reports_csv():
    return export("csv", report_query())


@bp.get("/api/areas.geojson")
def areas_geojson():
    response = jsonify(areas_feature_collection(get_db()))
    response.headers["Content-Type"] = "application/geo+json"
    response.cache_control.max_age = 300
    return response


@bp.get("/reports")
def report_list():
    db = get_db()
    query = report_query()
    page = page_number(request.args.get("page"))
    total = public_rows.count_reports(db, query)
    return render_template(
        "reports/list.html",
        reports=public_rows.reports_page(db, query, (page - 1) * PAGE_SIZE, PAGE_SIZE),
        total=total, page=page, pages=max(1, -(-total // PAGE_SIZE)),
        choices=filter_choices(db), args=link_args(request.args),
    )


@bp.get("/reports.atom")
def report_feed():
    db = get_db()
    entries = subscriptions.feed_entries(
        db, report_query(), request.args.get("near"), request.args.get("radius"),
        request.args.get("area"), current_app.config["ALERT_MAX_RADIUS_M"], FEED_SIZE)
    body = render_template(
        "reports/feed.atom.xml", entries=entries, statuses=STATUSES,
        updated=entries[0]["updated_at"] if entries else datetime.now(UTC).isoformat(),
        site_name=current_app.config["SITE_NAME"], args=link_args(request.args),
    )
    return Response(xml_safe(body), mimetype="application/atom+xml")
