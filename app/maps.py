"""Everything folium: the only place that turns (lon, lat) into Leaflet's [lat, lon].

folium points its assets at CDNs by default; every map built here uses the URLs passed in
``MapAssets`` instead (the app serves them from the XStatic packages), and our templates
include them, so a page contacts no host but ours and the tile server.
"""

from dataclasses import dataclass, field

import folium
from markupsafe import Markup


@dataclass(frozen=True)
class Tiles:
    url: str
    attribution: str


@dataclass(frozen=True)
class MapAssets:
    leaflet_js: str
    leaflet_css: str
    jquery_js: str
    plugin_js: list = field(default_factory=list)
    plugin_css: list = field(default_factory=list)

    @property
    def scripts(self):
        return [self.leaflet_js, self.jquery_js, *self.plugin_js]

    @property
    def stylesheets(self):
        return [self.leaflet_css, *self.plugin_css]


@dataclass(frozen=True)
class MapParts:
    """The pieces of a folium map to place in one of our pages."""

    name: str
    html: Markup
    script: Markup
    assets: MapAssets


def _base_map(lon, lat, zoom, tiles, assets):
    fmap = folium.Map(location=[lat, lon], zoom_start=zoom, tiles=None, control_scale=True)
    fmap.default_js = [(url, url) for url in assets.scripts]
    fmap.default_css = [(url, url) for url in assets.stylesheets]
    folium.TileLayer(tiles=tiles.url, attr=tiles.attribution, max_zoom=19).add_to(fmap)
    return fmap


def _parts(fmap, assets):
    root = fmap.get_root()
    root.render()
    return MapParts(
        name=fmap.get_name(),
        html=Markup(root.html.render()),
        script=Markup(root.script.render()),
        assets=assets,
    )


def area_map(bounds, tiles, assets):
    """A map centred on the covered area: the report form's and the public map's.

    ``bounds`` is (min_lon, min_lat, max_lon, max_lat). The page's script fits the map to
    them without animation (an animated fit would swallow a "use my location" that lands
    while it runs) and adds what the page shows: the resident's pin, or the reports.
    """
    min_lon, min_lat, max_lon, max_lat = bounds
    fmap = _base_map((min_lon + max_lon) / 2, (min_lat + max_lat) / 2, 10, tiles, assets)
    return _parts(fmap, assets)


def report_map(lon, lat, tiles, assets, label):
    """A small map centred on one report, with its pin."""
    fmap = _base_map(lon, lat, 16, tiles, assets)
    folium.Marker([lat, lon], tooltip=label).add_to(fmap)
    return _parts(fmap, assets)



def selection_map(points, tiles, assets):
    """Staff's map of a selection: one pin per (lon, lat, label, url), label escaped."""
    lons = [p[0] for p in points] or [0.0]
    lats = [p[1] for p in points] or [0.0]
    fmap = _base_map(sum(lons) / len(lons), sum(lats) / len(lats), 12, tiles, assets)
    for lon, lat, label, url in points:
        link = Markup('<a href="{}">{}</a>').format(url, label)
        folium.Marker([lat, lon], popup=folium.Popup(str(link), parse_html=False)).add_to(fmap)
    if points:
        fmap.fit_bounds([[min(lats), min(lons)], [max(lats), max(lons)]], max_zoom=16)
    return _parts(fmap, assets)
