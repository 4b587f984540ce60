// The public map's density layer: where reports concentrate, as shaded grid cells read from
// the map's pre-aggregated cell counts (/api/density.json, never a scan of the reports).
// Switched on by the "Show where reports concentrate" box of the map panel; follows the
// view and the page's filters while on.
(function () {
  "use strict";
  var toggle = document.getElementById("show-density");
  var box = document.getElementById("public-map");
  if (!toggle || !box) { return; }
  var map = window[box.dataset.map];
  var FILTERS = ["status", "category", "service"];  // the cells have no dates
  var layer = L.layerGroup();
  var generation = 0;

  function viewBox() {
    var b = map.getBounds();
    var clamp = function (v, limit) { return Math.max(-limit, Math.min(limit, v)); };
    return [clamp(b.getWest(), 180), clamp(b.getSouth(), 90), clamp(b.getEast(), 180),
      clamp(b.getNorth(), 90)].map(function (v) { return v.toFixed(6); }).join(",");
  }

  function url() {
    var page = new URLSearchParams(window.location.search);
    var params = new URLSearchParams();
    FILTERS.forEach(function (name) { if (page.get(name)) { params.set(name, page.get(name)); } });
    params.set("bbox", viewBox());
    return toggle.dataset.url + "?" + params.toString();
  }

  function draw(data) {
    layer.clearLayers();
    data.cells.forEach(function (cell) {
      var share = Math.sqrt(cell[2] / data.max);
      L.rectangle([[cell[1], cell[0]], [cell[1] + data.cell_size, cell[0] + data.cell_size]], {
        stroke: false, fillColor: "#a4161a", fillOpacity: 0.12 + 0.6 * share,
        interactive: false, className: "density-cell"
      }).addTo(layer);
    });
  }

  function load() {
    if (!toggle.checked) { return; }
    var mine = ++generation;
    fetch(url()).then(function (response) {
      if (!response.ok) { throw new Error(response.status); }
      return response.json();
    }).then(function (data) {
      if (mine === generation && toggle.checked) { draw(data); }
    }).catch(function () { layer.clearLayers(); });
  }

  toggle.addEventListener("change", function () {
    if (toggle.checked) {
      map.addLayer(layer);
      load();
    } else {
      generation++;
      map.removeLayer(layer);
      layer.clearLayers();
    }
  });
  map.on("moveend", load);
}());
