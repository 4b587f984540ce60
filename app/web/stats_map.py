"""The map of one service area for its statistics page: the outline and the open reports.

Kept beside ``maps`` (which owns folium's other maps) so the stats pages add no code there.
"""

import folium
import shapely

from app.web.maps import TextLabel, _base_map, _parts

OUTLINE = {"color": "#0b5cad", "weight": 3, "fillOpacity": 0.05}


def area_outline_map(area, points, tiles, assets):
    """The area's outline (simplified for display) and one dot per open report, each dot's
    popup a link to the report; ``points`` are (lon, lat, label, url)."""
    geometry = shapely.simplify(shapely.from_wkb(area["geometry"]), 0.00005)
    fmap = _base_map((area["min_lon"] + area["max_lon"]) / 2,
                     (area["min_lat"] + area["max_lat"]) / 2, 12, tiles, assets)
    folium.GeoJson(shapely.geometry.mapping(geometry), style_function=lambda _: OUTLINE,
                   control=False).add_to(fmap)
    for lon, lat, label, url in points:
        dot = folium.CircleMarker([lat, lon], radius=7, color="#fff", weight=2, fill=True,
                                  fill_color="#a4161a", fill_opacity=0.9).add_to(fmap)
        TextLabel(label, popup=True, href=url).add_to(dot)
    fmap.fit_bounds([[area["min_lat"], area["min_lon"]], [area["max_lat"], area["max_lon"]]])
    return _parts(fmap, assets)
