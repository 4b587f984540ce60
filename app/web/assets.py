"""Front-end libraries served by the app from their XStatic Python packages.

URLs carry the package version, so files are cached for a year and a new release gets new
URLs. Only the packages listed here can be reached.
"""

from pathlib import Path

import xstatic.pkg.leaflet
import xstatic.pkg.leaflet_markercluster
from flask import abort, send_from_directory, url_for

from app.web.compression import precompressed
from app.web.maps import MapAssets

PACKAGES = {
    "leaflet": xstatic.pkg.leaflet,
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
    return precompressed(response, Path(module.BASE_DIR) / filename)


def vendor_url(package, filename):
    return url_for(
        "vendor_file", package=package, version=PACKAGES[package].VERSION, filename=filename
    )


def map_assets(cluster=False):
    """The URLs of Leaflet, and of the marker-cluster plugin when asked (no jQuery: our
    maps use none of folium's features that need it, and it would be a third of the map's
    first view)."""
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
        **plugins,
    )
