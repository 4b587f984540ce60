"""Front-end libraries served by the app from their XStatic Python packages.

URLs carry the package version, so files are cached for a year and a new release gets new
URLs. Only the packages listed here can be reached.
"""

import xstatic.pkg.jquery
import xstatic.pkg.leaflet
import xstatic.pkg.leaflet_markercluster
from flask import abort, send_from_directory, url_for

from app.web.compression import in_memory
from app.web.maps import MapAssets

PACKAGES = {
    "leaflet": xstatic.pkg.leaflet,
    "jquery": xstatic.pkg.jquery,
    "leaflet-markercluster": xstatic.pkg.leaflet_markercluster,
}
ONE_YEAR = 365 * 24 * 3600


def vendor_file(package, version, filename):
    """Serve one file of an XStatic package; 404 for anything else."""
    module = PACKAGES.get(package)
    if module is None or version != module.VERSION:
        abort(404)
    response = send_from_directory(module.BASE_DIR, filename, max_age=ONE_YEAR)
    response.cache_control.immutable = True
    return in_memory(response)


def vendor_url(package, filename):
    return url_for(
        "vendor_file", package=package, version=PACKAGES[package].VERSION, filename=filename
    )


def map_assets(cluster=False):
    """The URLs of Leaflet and jQuery, and of the marker-cluster plugin when asked."""
    plugins = {}
    if cluster:
        plugins = {
            "plugin_js": [vendor_url("leaflet-markercluster", "leaflet.markercluster.js")],
            "plugin_css": [vendor_url("leaflet-markercluster", "MarkerCluster.css"),
                           vendor_url("leaflet-markercluster", "MarkerCluster.Default.css")],
        }
    return MapAssets(
        leaflet_js=vendor_url("leaflet", "leaflet.js"),
        leaflet_css=vendor_url("leaflet", "leaflet.css"),
        jquery_js=vendor_url("jquery", "jquery.min.js"),
        **plugins,
    )
