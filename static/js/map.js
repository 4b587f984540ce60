// The public map: loads the reports of the current view (debounced on pan and zoom), with the
// filters of the page's URL; shows server clusters when the view holds too many reports,
// otherwise pins coloured by status, clustered by Leaflet.markercluster. Popups and area
// tooltips are built from DOM nodes with textContent, so residents' text and the names in a
// boundary file are never parsed as HTML.
(function () {
  "use strict";
  var t = window.uiText;
  var box = document.getElementById("public-map");
  var map = window[box.dataset.map];
  var statusLine = document.getElementById("map-status");
  var filters = document.getElementById("filters");
  var FILTERS = ["status", "category", "service", "since", "until"];
  var COLOURS = {
    new: "#b03a2e", acknowledged: "#a04000", in_progress: "#7d6608",
    fixed: "#1d6b38", closed: "#566573", duplicate: "#566573", rejected: "#566573"
  };
  var pins = L.markerClusterGroup({ showCoverageOnHover: false, maxClusterRadius: 50 });
  var cells = L.layerGroup();
  var areas = null;
  var timer = null;
  var generation = 0;
  var openReportId = null;
  var reloading = false;
  map.addLayer(pins);
  map.addLayer(cells);

  function currentFilters() {
    var params = new URLSearchParams(window.location.search);
    var chosen = new URLSearchParams();
    FILTERS.forEach(function (name) {
      if (params.get(name)) { chosen.set(name, params.get(name)); }
    });
    return chosen;
  }

  function viewBox() {
    var b = map.getBounds();
    var clamp = function (v, limit) { return Math.max(-limit, Math.min(limit, v)); };
    return [clamp(b.getWest(), 180), clamp(b.getSouth(), 90), clamp(b.getEast(), 180),
      clamp(b.getNorth(), 90)].map(function (v) { return v.toFixed(6); }).join(",");
  }

  function text(tag, content, className) {
    var node = document.createElement(tag);
    node.textContent = content;
    if (className) { node.className = className; }
    return node;
  }

  function popup(p) {
    var root = document.createElement("div");
    root.className = "report-popup";
    root.appendChild(text("strong", p.category_name));
    if (p.address) { root.appendChild(text("div", p.address, "popup-address")); }
    root.appendChild(text("div", p.status_name + " · " + localDay(p.created_at) +
      " · " + p.supports + " me too"));
    if (p.thumbnail) {
      var img = document.createElement("img");
      img.src = p.thumbnail;
      img.alt = t("photo_of_report");
      img.width = 160;
      root.appendChild(img);
    }
    root.appendChild(text("p", p.description.length > 140 ?
      p.description.slice(0, 140) + "…" : p.description));
    var link = text("a", t("open_report", { id: p.id }));
    link.href = p.url;
    root.appendChild(link);
    return root;
  }

  function pin(feature) {
    var c = feature.geometry.coordinates;
    var p = feature.properties;
    var marker = L.circleMarker([c[1], c[0]], {
      radius: 8, color: "#fff", weight: 2, fillOpacity: 0.95,
      fillColor: COLOURS[p.status] || "#566573"
    });
    marker.reportId = p.id;
    marker.bindPopup(function () { return popup(p); });
    marker.on("popupopen", function () { openReportId = p.id; });
    marker.on("popupclose", function () {
      if (openReportId === p.id && !reloading) { openReportId = null; }
    });
    return marker;
  }

  // A popup that pans the map to fit makes the map load the new view; the popup of the same
  // report opens again on the new pins instead of vanishing under the reader's finger.
  function reopenPopup() {
    var marker = pins.getLayers().filter(function (m) { return m.reportId === openReportId; })[0];
    if (marker && map.hasLayer(marker)) {  // a pin of its own, not inside a cluster
      marker.openPopup();
    } else {
      openReportId = null;
    }
  }

  function cell(feature) {
    var c = feature.geometry.coordinates;
    var count = feature.properties.count;
    var size = count < 100 ? 36 : count < 1000 ? 44 : 52;
    var marker = L.marker([c[1], c[0]], {
      icon: L.divIcon({
        html: "<span>" + count.toLocaleString() + "</span>", className: "server-cluster",
        iconSize: [size, size]
      }),
      title: t("cluster_title", { count: count }), keyboard: true
    });
    marker.on("click", function () { map.setView([c[1], c[0]], map.getZoom() + 2); });
    return marker;
  }

  function show(collection) {
    reloading = true;
    pins.clearLayers();
    cells.clearLayers();
    reloading = false;
    if (collection.clustered) {
      collection.features.forEach(function (f) { cells.addLayer(cell(f)); });
      statusLine.textContent = t("many_reports");
    } else {
      pins.addLayers(collection.features.map(pin));
      if (openReportId !== null) { reopenPopup(); }
      var count = collection.features.length;
      statusLine.textContent = count === 1 ? t("one_report_in_view") :
        t("reports_in_view", { count: count });
    }
  }

  function syncAlertsLink() {
    var link = document.getElementById("alerts-link");
    var centre = map.getCenter();
    link.href = link.href.split("?")[0] + "?lon=" + centre.lng.toFixed(5) +
      "&lat=" + centre.lat.toFixed(5);
  }

  function load() {
    var params = currentFilters();
    params.set("bbox", viewBox());
    syncAlertsLink();
    var mine = ++generation;
    fetch(box.dataset.reportsUrl + "?" + params.toString())
      .then(function (response) {
        return response.json().then(function (body) { return { ok: response.ok, body: body }; });
      })
      .then(function (result) {
        if (mine !== generation) { return; }
        if (!result.ok) { statusLine.textContent = result.body.error.message; return; }
        show(result.body);
      })
      .catch(function () { statusLine.textContent = t("load_failed"); });
  }

  function scheduleLoad() {
    clearTimeout(timer);
    timer = setTimeout(load, 250);
  }

  function syncLinks() {
    var query = currentFilters().toString();
    ["list-link", "csv-link", "feed-link"].forEach(function (id) {
      var link = document.getElementById(id);
      link.href = link.href.split("?")[0] + (query ? "?" + query : "");
    });
    var geojson = document.getElementById("geojson-link");
    geojson.href = geojson.href.split("?")[0] + "?download=1" + (query ? "&" + query : "");
  }

  filters.addEventListener("submit", function (event) {
    event.preventDefault();
    var params = new URLSearchParams();
    FILTERS.forEach(function (name) {
      var field = filters.elements[name];
      if (field && field.value) { params.set(name, field.value); }
    });
    history.replaceState(null, "", window.location.pathname +
      (params.toString() ? "?" + params.toString() : ""));
    syncLinks();
    load();
  });

  document.getElementById("show-areas").addEventListener("change", function (event) {
    if (!event.target.checked) {
      if (areas) { map.removeLayer(areas); }
      return;
    }
    if (areas) { map.addLayer(areas); return; }
    fetch(box.dataset.areasUrl).then(function (r) { return r.json(); }).then(function (data) {
      areas = L.geoJSON(data, {
        style: { color: "#0b5cad", weight: 2, fillOpacity: 0.04 },
        onEachFeature: function (feature, layer) {
          var label = feature.properties.name + " (" + feature.properties.service + ")";
          layer.bindTooltip(function () { return text("div", label); });
        }
      });
      if (event.target.checked) { map.addLayer(areas); areas.bringToBack(); }
    });
  });
  if (new URLSearchParams(window.location.search).get("areas")) {  // "the map of areas" link
    document.getElementById("show-areas").checked = true;
    document.getElementById("show-areas").dispatchEvent(new Event("change"));
  }

  var bounds = (box.dataset.bounds || "").split(",").map(Number);
  if (bounds.length === 4) {
    map.fitBounds([[bounds[1], bounds[0]], [bounds[3], bounds[2]]], { animate: false });
  }
  map.on("moveend", scheduleLoad);
  syncLinks();
  load();
}());
