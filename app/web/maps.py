"""Everything folium: the only place that turns (lon, lat) into Leaflet's [lat, lon].

folium points its assets at CDNs by default; every map built here uses the URLs passed in
``MapAssets`` instead (the app serves them from the XStatic packages), and our templates
include them, so a page contacts no host but ours and the tile server.
"""

import json
from dataclasses import dataclass, field

import folium
from folium.template import Template
from markupsafe import Markup

#: Characters a JSON string may hold that could end an inline script (``</script>``), start
#: HTML (``<!--``), or mean something in a template literal or an HTML attribute.
JS_ESCAPES = {ord(char): f"\\u{ord(char):04x}" for char in "<>&`$'"}


def js_string(value):
    """``value`` as a JavaScript string literal that is safe inside an inline ``<script>``.

    folium writes tooltip and popup text into a template literal unescaped, so a category
    named `` ${...} `` or ``</script>`` would run; names reach the page through here instead,
    and become text nodes. ``ensure_ascii`` turns U+2028/U+2029 into escapes too.

    >>> print(js_string("</script>${x}"))
    "\\u003c/script\\u003e\\u0024{x}"
    """
    return json.dumps(str(value), ensure_ascii=True).translate(JS_ESCAPES)


class TextLabel(folium.MacroElement):
    """A tooltip or popup on its parent marker showing ``text`` as text, never as HTML: the
    browser builds the node and sets its ``textContent``; with ``href`` it is a link."""

    _template = Template("""
        {% macro script(this, kwargs) %}
            {{ this._parent.get_name() }}.{{ this.method }}(function () {
                var node = document.createElement({{ this.tag }});
                node.textContent = {{ this.text }};
                {% if this.href %}node.href = {{ this.href }};{% endif %}
                return node;
            }, {{ this.options }});
        {% endmacro %}
    """)

    def __init__(self, text, popup=False, href=None):
        super().__init__()
        self._name = "TextLabel"
        self.method = "bindPopup" if popup else "bindTooltip"
        self.tag = js_string("a" if href else "div")
        self.text = js_string(text)
        self.href = js_string(href) if href else None
        self.options = "{}" if popup else '{"sticky": true}'


@dataclass(frozen=True)
class Tiles:
    url: str
    attribution: str

    @classmethod
    def from_settings(cls, config):
        """The tile layer that TILE_URL and TILE_ATTRIBUTION name, crediting the open data
        as well when DATA_ATTRIBUTION is set (a licence such as the ODbL asks for it where
        the data is shown, and a map page has no footer)."""
        attribution = config["TILE_ATTRIBUTION"]
        if config["DATA_ATTRIBUTION"]:
            attribution = str(Markup('{} | <a href="{}">{}</a>').format(
                Markup(attribution), config["DATA_LICENSE"], config["DATA_ATTRIBUTION"]))
        return cls(config["TILE_URL"], attribution)


@dataclass(frozen=True)
class MapView:
    """Where the maps of the whole city open (MAP_CENTRE, MAP_ZOOM), when the city chose it
    rather than the fit to its areas (a region's areas may span far more than the city)."""

    lon: float
    lat: float
    zoom: int

    @classmethod
    def from_settings(cls, config):
        """The configured view, or None when MAP_CENTRE is empty; ValueError names a bad
        value (checked at start-up, so a typo stops the app rather than a page).

        >>> MapView.from_settings({"MAP_CENTRE": "2.3488, 48.8534", "MAP_ZOOM": 13})
        MapView(lon=2.3488, lat=48.8534, zoom=13)
        """
        centre, zoom = str(config["MAP_CENTRE"]).strip(), config["MAP_ZOOM"]
        if not centre:
            return None
        try:
            lon, lat = (float(part) for part in centre.split(","))
        except ValueError:
            lon = lat = float("nan")
        if not (-180 <= lon <= 180 and -90 <= lat <= 90):
            raise ValueError(f"MAP_CENTRE {centre!r} is not 'lon,lat' (a longitude from "
                             "-180 to 180 and a latitude from -90 to 90).")
        if isinstance(zoom, bool) or not isinstance(zoom, int) or not 1 <= zoom <= 19:
            raise ValueError(f"MAP_ZOOM {zoom!r} is not a whole number from 1 to 19 (it "
                             "goes with MAP_CENTRE).")
        return cls(lon, lat, zoom)


@dataclass(frozen=True)
class MapAssets:
    leaflet_js: str
    leaflet_css: str
    plugin_js: list = field(default_factory=list)
    plugin_css: list = field(default_factory=list)

    @property
    def scripts(self):
        return [self.leaflet_js, *self.plugin_js]

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


def area_map(bounds, tiles, assets, view=None):
    """A map of the whole city: the report form's and the public map's.

    It opens at ``view`` (a :class:`MapView`) when the city configured one. Otherwise it is
    centred on ``bounds`` (min_lon, min_lat, max_lon, max_lat), which the page's script fits
    without animation (an animated fit would swallow a "use my location" that lands while it
    runs); the page gives the script the bounds only in that case (:func:`fit_bounds`).
    """
    if view is not None:
        return _parts(_base_map(view.lon, view.lat, view.zoom, tiles, assets), assets)
    min_lon, min_lat, max_lon, max_lat = bounds
    fmap = _base_map((min_lon + max_lon) / 2, (min_lat + max_lat) / 2, 10, tiles, assets)
    return _parts(fmap, assets)


def fit_bounds(bounds, view):
    """The bounds the page's script fits the map to: none when the city chose a view."""
    return None if view is not None else bounds


def report_map(lon, lat, tiles, assets, label):
    """A small map centred on one report, with its pin."""
    fmap = _base_map(lon, lat, 16, tiles, assets)
    marker = folium.Marker([lat, lon]).add_to(fmap)
    TextLabel(label).add_to(marker)
    return _parts(fmap, assets)


def selection_map(points, tiles, assets):
    """Staff's map of a selection: one pin per (lon, lat, label, url), its popup a link
    whose label is text."""
    lons = [p[0] for p in points] or [0.0]
    lats = [p[1] for p in points] or [0.0]
    fmap = _base_map(sum(lons) / len(lons), sum(lats) / len(lats), 12, tiles, assets)
    for lon, lat, label, url in points:
        marker = folium.Marker([lat, lon]).add_to(fmap)
        TextLabel(label, popup=True, href=url).add_to(marker)
    if points:
        fmap.fit_bounds([[min(lats), min(lons)], [max(lats), max(lons)]], max_zoom=16)
    return _parts(fmap, assets)


@dataclass(frozen=True)
class NearbyPoint:
    """Another report on the staff map: position, label, link, and whether it shares the
    report's category (drawn stronger)."""

    lon: float
    lat: float
    label: str
    href: str
    same_category: bool


def nearby_map(lon, lat, label, points, radius_m, tiles, assets):
    """Staff's map of one report (a pin), the circle of ``radius_m`` around it and the
    :class:`NearbyPoint` reports in it: the same category red and larger, others grey."""
    fmap = _base_map(lon, lat, 17, tiles, assets)
    folium.Circle([lat, lon], radius=radius_m, color="#0b5cad", weight=1,
                  fill=False).add_to(fmap)
    marker = folium.Marker([lat, lon]).add_to(fmap)
    TextLabel(label).add_to(marker)
    for point in points:
        color = "#a4161a" if point.same_category else "#4a4a4a"
        circle = folium.CircleMarker([point.lat, point.lon], radius=10 if point.same_category
                                     else 7, color="#fff", weight=2, fill=True,
                                     fill_color=color, fill_opacity=0.9).add_to(fmap)
        TextLabel(point.label, popup=True, href=point.href).add_to(circle)
    return _parts(fmap, assets)
