"""The open-data catalogue: ``/data`` for people and ``/data.jsonld`` (DCAT-AP) for portals.

Each dataset is described once (title, description, update frequency, fields, example,
distributions) and both answers are built from that description, so the page and the
harvested catalogue never disagree.
"""

import json
from dataclasses import dataclass, field

from flask import Blueprint, Response, current_app, render_template, url_for
from flask_babel import force_locale
from flask_babel import lazy_gettext as _l

from app.reporting.public import CSV_COLUMNS
from app.reporting.public_stats import CSV_COLUMNS as STATS_COLUMNS

bp = Blueprint("data", __name__)

EU = "http://publications.europa.eu/resource/authority/"
FREQUENCIES = {"continuous": (EU + "frequency/CONT", _l("Continuously, as reports change")),
               "daily": (EU + "frequency/DAILY", _l("Daily")),
               "irregular": (EU + "frequency/IRREG", _l("When the city changes them"))}
FORMATS = {"text/csv": "CSV", "application/geo+json": "GEOJSON", "application/json": "JSON",
           "application/atom+xml": "ATOM", "application/xml": "XML"}
CONTEXT = {
    "dcat": "http://www.w3.org/ns/dcat#", "dct": "http://purl.org/dc/terms/",
    "foaf": "http://xmlns.com/foaf/0.1/", "vcard": "http://www.w3.org/2006/vcard/ns#",
    "xsd": "http://www.w3.org/2001/XMLSchema#",
}


@dataclass(frozen=True)
class Distribution:
    title: str
    endpoint: str
    media_type: str
    args: dict = field(default_factory=dict)


@dataclass(frozen=True)
class Dataset:
    key: str
    title: str
    description: str
    frequency: str
    fields: tuple
    example: tuple  # (endpoint, args) of a small example request
    distributions: tuple
    keywords: tuple = ()


def datasets():
    """Every open dataset of the site, in the order the page shows them."""
    return (
        Dataset("reports", _l("Reports"),
                _l("Every public report: category, status, service, position, times, "
                   "description (as published) and “me too” count. Filters: status, "
                   "category, service, since, until, bbox. No e-mail, no hidden report; a "
                   "reporter’s name only when they chose to show it."),
                "continuous", tuple(CSV_COLUMNS),
                ("reports.reports_csv", {"status": "fixed", "since": "2024-01-01"}),
                (Distribution("CSV", "reports.reports_csv", "text/csv"),
                 Distribution("GeoJSON", "reports.reports_geojson", "application/geo+json",
                              {"download": "1"})),
                ("311", "street", "reports")),
        Dataset("feeds", _l("Feeds of new reports"),
                _l("Atom feeds of the newest reports, for the city, a service area or one "
                   "report’s history, for feed readers and automations."),
                "continuous", ("title", "link", "updated", "category", "summary"),
                ("reports.report_feed", {}),
                (Distribution("Atom", "reports.report_feed", "application/atom+xml"),),
                ("feed", "reports")),
        Dataset("areas", _l("Service areas"),
                _l("The outline of every service area in force, with the service that takes "
                   "its reports and the categories it handles."),
                "irregular", ("id", "name", "service", "categories", "geometry"),
                ("reports.areas_geojson", {}),
                (Distribution("GeoJSON", "reports.areas_geojson", "application/geo+json"),),
                ("boundaries", "services")),
        Dataset("statistics", _l("Statistics"),
                _l("What the city does with reports: received, fixed, closed and still open, "
                   "backlog by age, median and 90th-percentile times to acknowledge and to "
                   "fix, share fixed within target, reports per week. Filters: period (30d, "
                   "90d, 12m), service, category, area."),
                "daily", tuple(STATS_COLUMNS),
                ("stats.stats_json", {"period": "30d"}),
                (Distribution("JSON", "stats.stats_json", "application/json"),
                 Distribution("CSV", "stats.stats_csv", "text/csv")),
                ("statistics", "performance")),
        Dataset("open311", _l("Open311 GeoReport v2"),
                _l("The standard interface of civic issue trackers: list the services, "
                   "read and search requests, follow their updates; apps with a key may post "
                   "reports."),
                "continuous", ("service_request_id", "status", "service_code",
                               "requested_datetime", "updated_datetime", "lat", "long"),
                ("open311.search_requests", {"fmt": "json", "status": "open"}),
                (Distribution("Open311 JSON", "open311.search_requests", "application/json",
                              {"fmt": "json"}),
                 Distribution("Open311 XML", "open311.search_requests", "application/xml",
                              {"fmt": "xml"}),
                 Distribution(_l("Discovery"), "open311.discovery", "application/json",
                              {"fmt": "json"})),
                ("open311", "georeport")),
    )


def licence():
    """(licence URL, attribution) from DATA_LICENSE and DATA_ATTRIBUTION."""
    config = current_app.config
    return config["DATA_LICENSE"], config["DATA_ATTRIBUTION"] or config["SITE_NAME"]


@bp.get("/data")
def catalogue():
    licence_url, attribution = licence()
    return render_template("stats/data.html", datasets=datasets(), frequencies=FREQUENCIES,
                           licence_url=licence_url, attribution=attribution)


@bp.get("/data.jsonld")
def catalogue_jsonld():
    with force_locale("en"):
        document = dcat_catalogue()
    response = Response(json.dumps(document, ensure_ascii=False, indent=1),
                        mimetype="application/ld+json")
    response.cache_control.max_age = 3600
    response.headers["Access-Control-Allow-Origin"] = "*"
    return response


def dcat_catalogue():
    """The catalogue as DCAT-AP JSON-LD (in English)."""
    licence_url, attribution = licence()
    home = url_for("reports.home", _external=True)
    publisher = {"@id": home + "#publisher", "@type": "foaf:Agent",
                 "foaf:name": attribution}
    return {
        "@context": CONTEXT,
        "@id": url_for("data.catalogue_jsonld", _external=True),
        "@type": "dcat:Catalog",
        "dct:title": f"{current_app.config['SITE_NAME']}: open data",
        "dct:description": "Street problems reported by residents and what the city does "
                           "with them.",
        "foaf:homepage": {"@id": url_for("data.catalogue", _external=True)},
        "dct:publisher": publisher,
        "dct:license": {"@id": licence_url},
        "dcat:dataset": [_dcat_dataset(d, publisher, licence_url) for d in datasets()],
    }


def _dcat_dataset(dataset, publisher, licence_url):
    page = url_for("data.catalogue", _external=True, _anchor=dataset.key)
    return {
        "@id": page,
        "@type": "dcat:Dataset",
        "dct:identifier": dataset.key,
        "dct:title": str(dataset.title),
        "dct:description": str(dataset.description),
        "dcat:keyword": list(dataset.keywords),
        "dct:accrualPeriodicity": {"@id": FREQUENCIES[dataset.frequency][0]},
        "dct:publisher": publisher,
        "dct:license": {"@id": licence_url},
        "dcat:landingPage": {"@id": page},
        "dcat:contactPoint": {"@type": "vcard:Organization", "vcard:fn": publisher["foaf:name"],
                              "vcard:hasURL": {"@id": url_for("reports.home", _external=True)}},
        "dcat:distribution": [_dcat_distribution(d, licence_url) for d in dataset.distributions],
    }


def _dcat_distribution(distribution, licence_url):
    url = url_for(distribution.endpoint, _external=True, **distribution.args)
    return {
        "@id": url,
        "@type": "dcat:Distribution",
        "dct:title": str(distribution.title),
        "dcat:accessURL": {"@id": url},
        "dcat:downloadURL": {"@id": url},
        "dcat:mediaType": {"@id": "https://www.iana.org/assignments/media-types/"
                                  + distribution.media_type},
        "dct:format": {"@id": EU + "file-type/" + FORMATS[distribution.media_type]},
        "dct:license": {"@id": licence_url},
    }
