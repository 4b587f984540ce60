"""The public map, the list, the Atom feed and the open-data exports of reports."""

import json
from datetime import UTC, datetime

from flask import (
    Response,
    current_app,
    jsonify,
    render_template,
    request,
)

from app import assets, maps, public, subscriptions
from app.areas import areas_feature_collection
from app.db import get_db, streamed
from app.ids import page_number
from app.links import Links
from app.reports import bp, tiles
from app.statuses import STATUSES
from app.storage import areas as area_rows
from app.storage import catalog
from app.storage import public as public_rows

PAGE_SIZE = 50
FEED_SIZE = 50


def report_query(require_bbox=False):
    return public.parse_report_query(request.args, get_db(), require_bbox=require_bbox)


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
    overview = maps.area_map(bounds, tiles(), assets.map_assets(cluster=True))
    return render_template("reports/map.html", overview=overview, bounds=bounds,
                           choices=filter_choices(db), args=request.args)


@bp.get("/api/reports.geojson")
def reports_geojson():
    query = report_query(require_bbox="download" not in request.args)
    links = Links()
    if "download" in request.args:
        return streamed(lambda db: public.geojson_chunks(db, query, links),
                        "application/geo+json", "reports.geojson")
    collection = public.viewport(get_db(), query, links, current_app.config["MAP_POINT_LIMIT"])
    return Response(json.dumps(collection, separators=(",", ":")), mimetype="application/geo+json")


@bp.get("/api/reports.csv")
def reports_csv():
    query, links = report_query(), Links()
    return streamed(lambda db: public.csv_chunks(db, query, links), "text/csv; charset=utf-8",
                    "reports.csv")


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
        choices=filter_choices(db), args=request.args,
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
        site_name=current_app.config["SITE_NAME"],
    )
    return Response(body, mimetype="application/atom+xml")
