// The report form's place search: suggestions from /api/places as the resident types
// (debounced; a newer keystroke aborts the request in flight), shown as a WAI-ARIA combobox
// (arrow keys move, Enter chooses, Escape closes), and choosing one centres the map at
// street zoom with the pin on it. Without this script the box is a GET form whose page
// lists the matches as links (app/web/place_form.py). Also draws the open reports around the
// pin as lighter pins, so a resident sees what is already reported before typing.
(function () {
  "use strict";
  var box = document.getElementById("place-search-box");
  if (!box) { return; }
  var t = window.uiText;
  var input = document.getElementById("place-query");
  var list = document.getElementById("place-options");
  var status = document.getElementById("place-search-status");
  var searchForm = document.getElementById("place-search");
  var reportForm = document.getElementById("report-form");
  var map = window[reportForm.dataset.map];
  var DEBOUNCE_MS = 250;
  var MIN_CHARACTERS = 3;
  var SUGGESTIONS = 6;
  var timer = null;
  var inFlight = null;
  var places = [];
  var active = -1;

  // With the script, "outside the area we cover" is said under the map: the note follows it.
  document.getElementById("location-status").after(document.getElementById("coverage-note"));

  input.setAttribute("role", "combobox");
  input.setAttribute("aria-autocomplete", "list");
  input.setAttribute("aria-expanded", "false");
  input.setAttribute("aria-controls", list.id);

  function say(text) { status.textContent = text; }

  function close() {
    list.hidden = true;
    input.setAttribute("aria-expanded", "false");
    input.removeAttribute("aria-activedescendant");
    active = -1;
  }

  function open() {
    if (!places.length) { return; }
    list.hidden = false;
    input.setAttribute("aria-expanded", "true");
  }

  function option(place, index) {
    var item = document.createElement("li");
    item.id = "place-option-" + index;
    item.setAttribute("role", "option");
    item.setAttribute("aria-selected", "false");
    item.textContent = place.properties.address;
    item.addEventListener("mousedown", function (event) { event.preventDefault(); });
    item.addEventListener("click", function () { choose(index); });
    return item;
  }

  function show(found, text) {
    places = found;
    active = -1;
    list.replaceChildren.apply(list, found.map(option));
    if (!found.length) {
      close();
      say(t("no_place_found", { text: text }));
      return;
    }
    open();
    say(found.length === 1 ? t("one_place_found") : t("places_found", { count: found.length }));
  }

  function highlight(index) {
    var items = list.children;
    if (!items.length) { return; }
    active = (index + items.length) % items.length;
    Array.prototype.forEach.call(items, function (item, i) {
      item.setAttribute("aria-selected", i === active ? "true" : "false");
    });
    input.setAttribute("aria-activedescendant", items[active].id);
    items[active].scrollIntoView({ block: "nearest" });
  }

  function nearPoint() {
    if (!map || map.getZoom() < 13) { return ""; }
    var centre = map.getCenter();
    return "&near=" + centre.lng.toFixed(5) + "," + centre.lat.toFixed(5);
  }

  function search() {
    var text = input.value.trim();
    if (inFlight) { inFlight.abort(); }
    if (text.length < MIN_CHARACTERS) { places = []; close(); return; }
    var mine = inFlight = new AbortController();
    var url = box.dataset.searchUrl + "?limit=" + SUGGESTIONS + "&q=" +
      encodeURIComponent(text) + nearPoint();
    fetch(url, { signal: mine.signal, headers: { Accept: "application/json" } })
      .then(function (response) {
        return response.json().then(function (body) { return { ok: response.ok, body: body }; });
      })
      .then(function (answer) {
        if (mine !== inFlight) { return; }
        inFlight = null;
        if (!answer.ok) { places = []; close(); say(answer.body.error.message); return; }
        show(answer.body.features, text);
      })
      .catch(function (error) {
        if (error.name !== "AbortError") { say(t("places_unavailable")); }
      });
  }

  function searchSoon() {
    clearTimeout(timer);
    timer = setTimeout(search, DEBOUNCE_MS);
  }

  function choose(index) {
    var place = places[index];
    var position = place.geometry.coordinates;
    input.value = place.properties.address;
    close();
    say("");  // the map's status line says where the pin is, once
    if (window.reportForm && window.reportForm.choosePlace) {
      window.reportForm.choosePlace(position[0], position[1],
        t("pin_at_place", { address: place.properties.address }));
    }
  }

  input.addEventListener("input", searchSoon);
  input.addEventListener("keydown", function (event) {
    if (event.key === "ArrowDown" || event.key === "ArrowUp") {
      event.preventDefault();
      if (list.hidden) { open(); }
      highlight(active + (event.key === "ArrowDown" ? 1 : -1));
    } else if (event.key === "Enter") {
      event.preventDefault();
      if (!list.hidden && active >= 0) { choose(active); } else { clearTimeout(timer); search(); }
    } else if (event.key === "Escape") {
      if (!list.hidden) { event.preventDefault(); close(); } else { input.value = ""; }
    }
  });
  input.addEventListener("blur", close);
  input.addEventListener("focus", open);
  searchForm.addEventListener("submit", function (event) {
    event.preventDefault();
    clearTimeout(timer);
    search();
    input.focus();
  });

  // A position chosen from the page's list of matches (or kept) opens at street zoom.
  var given = new URLSearchParams(window.location.search);
  if (map && given.get("lon") && given.get("lat")) {
    map.setView([parseFloat(given.get("lat")), parseFloat(given.get("lon"))], 17,
      { animate: false });
  }

  // Open reports around the pin, lighter than the pin itself.
  var OPEN_STATUSES = "new,acknowledged,in_progress";
  var AROUND_DEGREES = 0.003;
  var reported = map ? L.layerGroup().addTo(map) : null;
  var pinGeneration = 0;

  function reportedPin(feature) {
    var c = feature.geometry.coordinates;
    var p = feature.properties;
    var pin = L.circleMarker([c[1], c[0]], {
      radius: 7, color: "#5a6470", weight: 2, fillColor: "#ffffff", fillOpacity: 0.85,
      className: "already-reported"
    });
    var label = document.createElement("div");
    var link = document.createElement("a");
    link.href = p.url;
    link.textContent = t("see_report", { id: p.id });
    label.append([p.category_name, p.address, p.status_name, localDay(p.created_at)]
      .filter(Boolean).join(" · ") + " ", link);
    pin.bindPopup(label);
    pin.bindTooltip(p.category_name);
    return pin;
  }

  function drawReportsAround(lon, lat) {
    var mine = ++pinGeneration;
    var bbox = [lon - AROUND_DEGREES, lat - AROUND_DEGREES, lon + AROUND_DEGREES,
      lat + AROUND_DEGREES].map(function (v) { return v.toFixed(6); }).join(",");
    fetch(box.dataset.reportsUrl + "?status=" + OPEN_STATUSES + "&bbox=" + bbox)
      .then(function (response) { return response.ok ? response.json() : null; })
      .then(function (collection) {
        if (mine !== pinGeneration || !collection) { return; }
        reported.clearLayers();
        collection.features.forEach(function (feature) {
          if (!feature.properties.cluster) { reported.addLayer(reportedPin(feature)); }
        });
      });
  }

  if (reported) {
    reportForm.addEventListener("pinplaced", function (event) {
      drawReportsAround(event.detail.lon, event.detail.lat);
    });
    var lon = parseFloat(document.getElementById("lon").value);
    var lat = parseFloat(document.getElementById("lat").value);
    if (isFinite(lon) && isFinite(lat)) { drawReportsAround(lon, lat); }
  }
}());
