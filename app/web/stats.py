"""Public statistics: ``/stats``, one service area's page, and the same figures as open data
(``/api/stats.json``, ``/api/stats.csv``) with the same filters."""

import json
from datetime import timedelta

from flask import Blueprint, Response, current_app, render_template, request, url_for
from flask_babel import format_decimal, format_percent
from flask_babel import lazy_gettext as _l

from app import localtime
from app.reporting import public, public_stats
from app.storage import areas as area_rows
from app.storage import catalog
from app.storage import public_stats as stats_rows
from app.web import assets, maps, stats_map
from app.web.db import get_db
from app.web.i18n import name_of
from app.web.links import Links
from app.web.local_time import city_zone

bp = Blueprint("stats", __name__)

#: Most open reports drawn on an area's map (the newest).
AREA_MAP_REPORTS = 500
DATA_MAX_AGE = 300
PERIOD_NAMES = {"30d": _l("Last 30 days"), "90d": _l("Last 90 days"), "12m": _l("Last 12 months")}


@bp.app_template_filter("decimal")
def decimal(value):
    """A number in the reader's language (1,234.5 or 1 234,5)."""
    return format_decimal(value)


def percent(within):
    """(within, of) as a share in the reader's language, with the counts."""
    count, total = within
    return f"{format_percent(count / total) if total else '–'} ({count}/{total})"


def _figures(area_id=None):
    db = get_db()
    public_stats.ensure_calendar(db, city_zone())
    stats_filter = public_stats.parse_filter(request.args, db, area=area_id)
    return public_stats.figures(db, stats_filter, localtime.today(city_zone()))


class FigureLinks:
    """Where each figure of a page leads: counts to the matching list of reports (which has
    its CSV), other figures to the statistics' data with the page's filters."""

    def __init__(self, figures):
        self.figures = figures
        self.filter = figures.filter

    def data(self, fmt):
        return url_for(f"stats.stats_{fmt}", **self.filter.query_args())

    def count(self, status=None, since=None, until=None):
        """The reports behind a count; an area's counts lead to its data (the list has no
        area filter)."""
        if self.figures.area:
            return self.data("json")
        args = {"since": (since or self.figures.first_day).isoformat(),
                "until": until.isoformat() if until else None, "status": status,
                "service": self.filter.service, "category": self.filter.category}
        return url_for("reports.report_list", **{k: v for k, v in args.items() if v})

    def week(self, monday):
        return self.count(since=max(monday, self.figures.first_day),
                          until=monday + timedelta(days=6))

    def line(self, service, category=None):
        """This page's figures for one service (or service and category) line."""
        args = self.filter.query_args(service=None if self.figures.area else service,
                                      category=category, area=None)
        return url_for(request.endpoint, **request.view_args, **args)


def _page_context(figures):
    db = get_db()
    return {"figures": figures, "links": FigureLinks(figures), "periods": public_stats.PERIODS,
            "services": catalog.all_services(db), "categories": catalog.all_categories(db),
            "open_statuses": ",".join(public_stats.OPEN), "period_names": PERIOD_NAMES,
            "percent": percent}


@bp.get("/stats")
def city():
    figures = _figures()
    return render_template("stats/city.html", **_page_context(figures))


@bp.get("/areas")
def areas():
    return render_template("stats/areas.html", areas=area_rows.active_area_choices(get_db()))


@bp.get("/areas/<id:area_id>")
def area(area_id):
    figures = _figures(area_id)
    points = [(r["lon"], r["lat"], f"{name_of('category', r['category_code'], r['category'])}"
               f" #{r['id']}", url_for("reports.show_report", report_id=r["id"]))
              for r in stats_rows.open_report_points(get_db(), area_id, AREA_MAP_REPORTS)]
    outline = stats_map.area_outline_map(figures.area, points,
                                         maps.Tiles.from_settings(current_app.config),
                                         assets.map_assets())
    return render_template("stats/area.html", outline=outline, shown=len(points),
                           **_page_context(figures))


@bp.get("/api/stats.json")
def stats_json():
    data = public_stats.as_dict(_figures(), Links())
    response = Response(json.dumps(data, ensure_ascii=False, indent=1),
                        mimetype="application/json")
    return _open_data(response)


@bp.get("/api/stats.csv")
def stats_csv():
    data = public_stats.as_dict(_figures(), Links())
    response = Response(public_stats.csv_text(data), mimetype="text/csv")
    response.headers["Content-Disposition"] = 'attachment; filename="stats.csv"'
    return _open_data(response)


def _open_data(response):
    response.cache_control.max_age = DATA_MAX_AGE
    response.cache_control.public = True
    response.headers["Access-Control-Allow-Origin"] = "*"
    return response


@bp.get("/api/density.json")
def density():
    """Report counts per grid cell of the view, for the map's density layer."""
    query = public.parse_report_query(request.args, get_db(), require_bbox=True,
                                      zone=city_zone())
    response = Response(json.dumps(public_stats.density(get_db(), query)),
                        mimetype="application/json")
    response.cache_control.max_age = 60
    return response
