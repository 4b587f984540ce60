// The public map: loads the reports of the current view (debounced on pan and zoom), with the
// filters of the page's URL; shows the server's clusters when the view holds too many
// reports (merged where their markers would overlap on screen, so they never heap), otherwise
// pins that show the status by shape, symbol and colour (copied from the page's
// key, #pin-legend), clustered by Leaflet.markercluster, and the same reports as a text list
// (#map-list). Pins are buttons: Tab reaches them, Enter opens their popup. Popups and area
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
  var panel = document.getElementById("map-panel");
  var legend = document.getElementById("pin-legend");
  var LIST_LIMIT = 100;
  var CLUSTER_GAP = 2;  // least room between two server clusters' markers, in pixels
  // The server's cells are asked for about this wide, half a marker's reach: small enough to
  // place clusters where the reports are, and merged here where their markers would overlap.
  var CELL_PIXELS = 30;
  var markers = {};  // report id -> its pin on the map now
  var pins = L.markerClusterGroup({ showCoverageOnHover: false, maxClusterRadius: 50 });
  var clusterLayer = L.layerGroup();  // the server's clusters, merged where they would touch
  var clusters = null;  // the server's clusters of the view, while it shows them
  var areas = null;
  var timer = null;
  var generation = 0;
  var openReportId = null;
  var reloading = false;
  map.addLayer(pins);
  map.addLayer(clusterLayer);

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

  // The key's pin of this status (shape, symbol, colour), or the closed one for the unknown.
  function statusPin(status) {
    var item = legend.querySelector("li[data-status='" + status + "']") ||
      legend.querySelector("li[data-status='closed']");
    return item.querySelector(".report-pin").cloneNode(true);
  }

  function pinLabel(p) {
    return t("pin_label", { id: p.id, category: p.category_name, status: p.status_name });
  }

  // Room the popup keeps free when it pans the map into view: the panel's summary at the
  // top and the status line at the bottom never cover it.
  function popupPadding() {
    var top = panel.open ? 8 : panel.offsetTop + panel.offsetHeight + 8;
    return { autoPanPaddingTopLeft: L.point(8, top),
      autoPanPaddingBottomRight: L.point(8, statusLine.offsetHeight + 40) };
  }

  function pin(feature) {
    var c = feature.geometry.coordinates;
    var p = feature.properties;
    var marker = L.marker([c[1], c[0]], {
      icon: L.divIcon({ html: statusPin(p.status), className: "report-pin-box",
        iconSize: [26, 26] }),
      keyboard: true, riseOnHover: true
    });
    marker.on("add", function () {
      var node = marker.getElement();
      node.setAttribute("aria-label", pinLabel(marker.report));
      node.classList.add("report-pin-button");
    });
    marker.reportId = p.id;
    marker.report = p;
    marker.on("click keypress", function () { L.setOptions(marker.getPopup(), popupPadding()); });
    marker.bindPopup(function () { return popup(marker.report); }, popupPadding());
    marker.on("popupopen", function () { openReportId = p.id; clearPanel(); });
    marker.on("popupclose", function () {
      if (openReportId === p.id && !reloading) { openReportId = null; }
    });
    return marker;
  }

  // A new view keeps the pins of the reports still in it (a changed status gets a new pin),
  // so an open popup and the pin that has the keyboard's focus stay where they are.
  function showPins(features) {
    var kept = {};
    var added = [];
    features.forEach(function (f) {
      var old = markers[f.properties.id];
      if (old && old.report.status === f.properties.status) {
        old.report = f.properties;
        kept[f.properties.id] = old;
      } else {
        kept[f.properties.id] = pin(f);
        added.push(kept[f.properties.id]);
      }
    });
    var gone = Object.keys(markers).filter(function (id) { return kept[id] !== markers[id]; })
      .map(function (id) { return markers[id]; });
    reloading = true;
    pins.removeLayers(gone);
    reloading = false;
    pins.addLayers(added);
    markers = kept;
  }

  // A popup whose pin was redrawn (or clustered for a moment) opens again on the new pin
  // instead of vanishing under the reader's finger.
  function reopenPopup() {
    var marker = pins.getLayers().filter(function (m) { return m.reportId === openReportId; })[0];
    if (marker && map.hasLayer(marker)) {  // a pin of its own, not inside a cluster
      marker.openPopup();
    } else {
      openReportId = null;
    }
  }

  function clusterSize(count) { return count < 100 ? 36 : count < 1000 ? 44 : 52; }

  // The count as it fits in its marker: whole up to 99,999, then short (119K, 1M); the
  // marker's title says it in full.
  function clusterLabel(count) {
    return count < 100000 ? count.toLocaleString() :
      count.toLocaleString(undefined, { notation: "compact", maximumFractionDigits: 1 });
  }

  // The server's clusters as drawn. Those whose markers would overlap on screen, or come
  // closer than CLUSTER_GAP pixels, are merged, biggest first, until none do: a merged
  // cluster counts the reports of its parts and sits at their mean position weighted by
  // count, where the server's own cluster of them would be. So whatever grid the server
  // chose (its cells may be smaller than a marker, and a zoom leaves the old answer on
  // screen until the new one comes), the view never shows a heap. Merging is checked in a
  // grid of buckets as wide as the farthest two markers can touch, so each pass looks at
  // neighbours only; it ends with a pass that merges nothing, which has seen every pair
  // that could overlap. The clusters come back in reading order, the keyboard's order.
  function separate(features) {
    var zoom = map.getZoom();
    var reach = clusterSize(Infinity) + CLUSTER_GAP;
    var place = function (group) {
      group.point = map.project([group.lat / group.count, group.lon / group.count], zoom);
      group.size = clusterSize(group.count);
      return group;
    };
    var touch = function (a, b) {
      var room = (a.size + b.size) / 2 + CLUSTER_GAP;
      return Math.abs(a.point.x - b.point.x) < room && Math.abs(a.point.y - b.point.y) < room;
    };
    var bucket = function (point, dx, dy) {
      return (Math.floor(point.x / reach) + dx) + "," + (Math.floor(point.y / reach) + dy);
    };
    var groups = features.map(function (f) {
      var n = f.properties.count;
      var c = f.geometry.coordinates;
      return place({ count: n, lon: c[0] * n, lat: c[1] * n });
    });
    var merged = true;
    while (merged) {
      merged = false;
      var buckets = {};
      groups.sort(function (a, b) { return b.count - a.count; });
      groups.forEach(function (g) {
        var key = bucket(g.point, 0, 0);
        (buckets[key] = buckets[key] || []).push(g);
      });
      groups.forEach(function (g) {
        if (g.gone) { return; }
        var home = g.point;  // where the buckets have it; its point moves as it merges
        for (var dx = -1; dx <= 1; dx++) {
          for (var dy = -1; dy <= 1; dy++) {
            (buckets[bucket(home, dx, dy)] || []).forEach(function (other) {
              if (other === g || other.gone || !touch(g, other)) { return; }
              g.count += other.count;
              g.lon += other.lon;
              g.lat += other.lat;
              place(g);
              other.gone = true;
              merged = true;
            });
          }
        }
      });
      groups = groups.filter(function (g) { return !g.gone; });
    }
    return groups.sort(function (a, b) { return a.point.y - b.point.y || a.point.x - b.point.x; });
  }

  function clusterMarker(group) {
    var position = [group.lat / group.count, group.lon / group.count];
    var marker = L.marker(position, {
      icon: L.divIcon({
        html: "<span>" + clusterLabel(group.count) + "</span>", className: "server-cluster",
        iconSize: [group.size, group.size]
      }),
      title: t("cluster_title", { count: group.count }), keyboard: true
    });
    var zoomIn = function () { map.setView(position, map.getZoom() + 2); };
    marker.on("click", zoomIn);
    // Leaflet turns Enter on a marker into a keypress, not a click; the redrawn view has new
    // markers, so the map itself keeps the keyboard's focus (Tab reaches them again).
    marker.on("keypress", function (event) {
      var key = event.originalEvent.key;
      if (key !== "Enter" && key !== " ") { return; }
      event.originalEvent.preventDefault();
      map.getContainer().focus({ preventScroll: true });
      zoomIn();
    });
    return marker;
  }

  function showClusters() {
    clusterLayer.clearLayers();
    if (clusters) {
      separate(clusters).forEach(function (g) { clusterLayer.addLayer(clusterMarker(g)); });
    }
  }

  // A popup opened while the panel is open: the panel folds away if it covers the popup.
  function clearPanel() {
    var shown = document.querySelector(".leaflet-popup");
    if (!panel.open || !shown) { return; }
    var a = panel.getBoundingClientRect();
    var b = shown.getBoundingClientRect();
    if (a.left < b.right && b.left < a.right && a.top < b.bottom && b.top < a.bottom) {
      panel.open = false;
    }
  }

  // Open a report's popup from the list: on its own pin, zoomed in from a cluster if needed.
  function showOnMap(id) {
    var marker = markers[id];
    if (!marker) { return; }
    openReportId = id;
    pins.zoomToShowLayer(marker, function () {
      marker.openPopup();
      marker.getElement().focus();
    });
  }

  function listItem(feature) {
    var p = feature.properties;
    var item = document.createElement("li");
    item.dataset.created = p.created_at;
    item.appendChild(statusPin(p.status));
    var body = document.createElement("div");
    var link = text("a", "#" + p.id + " " + p.category_name);
    link.href = p.url;
    var title = document.createElement("p");
    title.appendChild(link);
    body.appendChild(title);
    body.appendChild(text("p", p.status_name + " · " + localDay(p.created_at) + " · " +
      t("me_too_count", { count: p.supports }), "meta"));
    if (p.address) { body.appendChild(text("p", p.address, "meta")); }
    var button = text("button", t("show_on_map"));
    button.type = "button";
    button.setAttribute("aria-label", t("show_on_map_n", { id: p.id }));
    button.addEventListener("click", function () { showOnMap(p.id); });
    body.appendChild(button);
    item.appendChild(body);
    return item;
  }

  // The list shows the newest reports of the view (at most LIST_LIMIT), or says to zoom in
  // when the view holds only clusters.
  function showList(collection) {
    var items = document.getElementById("map-list-items");
    var note = document.getElementById("map-list-note");
    items.textContent = "";
    if (collection.clustered) { note.textContent = t("list_zoom_in"); return; }
    var newest = collection.features.slice().sort(function (a, b) {
      return a.properties.created_at < b.properties.created_at ? 1 : -1;
    });
    note.textContent = newest.length > LIST_LIMIT ?
      t("list_newest", { shown: LIST_LIMIT, count: newest.length }) :
      newest.length ? "" : t("list_empty");
    newest.slice(0, LIST_LIMIT).forEach(function (f) { items.appendChild(listItem(f)); });
  }

  function show(collection) {
    clusters = collection.clustered ? collection.features : null;
    showClusters();
    showList(collection);
    if (collection.clustered) {
      reloading = true;
      pins.clearLayers();
      markers = {};
      reloading = false;
      statusLine.textContent = t("many_reports");
    } else {
      showPins(collection.features);
      if (openReportId !== null && !map.getContainer().querySelector(".leaflet-popup")) {
        reopenPopup();
      }
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

  // About how many of the server's cells fit across the map's longer side (2 to 64); none
  // asked for while the map has no size yet (the server's default then).
  function cellsAcross() {
    var longer = Math.max(map.getSize().x, map.getSize().y);
    return longer ? Math.max(2, Math.min(64, Math.round(longer / CELL_PIXELS))) : null;
  }

  function load() {
    var params = currentFilters();
    params.set("bbox", viewBox());
    var across = cellsAcross();
    if (across) { params.set("cells", across); }
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
    ["list-link", "csv-link", "feed-link", "map-list-all"].forEach(function (id) {
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
  map.on("zoomend", showClusters);  // laid out for the new zoom until its answer comes
  map.on("moveend", scheduleLoad);
  syncLinks();
  load();
}());
