// The report form's map: place and drag the pin, use the device's location, propose a photo's
// GPS position, and offer only the categories handled where the pin is. Leaflet speaks
// [lat, lon]; the form's fields and our APIs speak lon and lat by name.
(function () {
  "use strict";
  var t = window.uiText;
  var form = document.getElementById("report-form");
  var map = window[form.dataset.map];
  var lonInput = document.getElementById("lon");
  var latInput = document.getElementById("lat");
  var category = document.getElementById("category");
  var statusLine = document.getElementById("location-status");
  var allOptions = Array.prototype.slice.call(category.options, 1).map(function (o) {
    return { value: o.value, text: o.text };
  });
  var marker = null;
  var supported = new Set();
  var nearbyGeneration = 0;
  var nearbyShown = null;

  function say(text) { statusLine.textContent = text; }

  function csrfToken() { return document.querySelector("meta[name=csrf-token]").content; }

  function setCategories(allowed) {
    var chosen = category.value;
    while (category.options.length > 1) { category.remove(1); }
    allOptions.forEach(function (o) {
      if (allowed === null || allowed.indexOf(o.value) !== -1) {
        category.add(new Option(o.text, o.value, false, o.value === chosen));
      }
    });
  }

  function refreshCategories(lon, lat, message) {
    var url = form.dataset.categoriesUrl + "?lon=" + encodeURIComponent(lon) +
      "&lat=" + encodeURIComponent(lat);
    fetch(url).then(function (response) {
      return response.json().then(function (body) { return { ok: response.ok, body: body }; });
    }).then(function (result) {
      document.getElementById("coverage-note").hidden = result.ok;
      if (!result.ok) {
        setCategories(null);  // outside the areas: the chosen kind of problem stays chosen
        say(result.body.error.message);
        return;
      }
      setCategories(result.body.categories.map(function (c) { return c.code; }));
      refreshNearby();
      say((message || t("pin_placed")) + " " +
        t("kinds_handled", { count: result.body.categories.length }));
    }).catch(function () { setCategories(null); });
  }

  function nearbyItem(report) {
    var item = document.createElement("li");
    if (report.thumbnail) {
      var img = document.createElement("img");
      img.src = report.thumbnail;
      img.alt = t("photo_of_report_n", { id: report.id });
      item.appendChild(img);
    }
    var info = document.createElement("p");
    info.textContent = "#" + report.id + " · " + localDay(report.created_at) + " · " +
      t("metres_away", { distance: report.distance_m }) + " · ";
    var count = document.createElement("span");
    count.className = "support-count";
    count.textContent = t("me_too_count", { count: report.supports });
    info.appendChild(count);
    item.appendChild(info);
    var text = document.createElement("p");
    text.textContent = report.description.length > 120 ?
      report.description.slice(0, 120) + "…" : report.description;
    item.appendChild(text);
    var link = document.createElement("a");
    link.href = report.url;
    link.textContent = t("see_report", { id: report.id });
    item.appendChild(link);
    var button = document.createElement("button");
    button.type = "button";
    button.textContent = t("me_too");
    button.addEventListener("click", function () { support(report.id, button, count); });
    if (supported.has(report.id)) { markSupported(button); }
    item.appendChild(button);
    return item;
  }

  function support(reportId, button, count) {
    var url = form.dataset.supportUrl.replace("/0/", "/" + reportId + "/");
    var body = new FormData();
    body.append("email", document.getElementById("email").value);
    fetch(url, { method: "POST", body: body, headers: { "X-CSRFToken": csrfToken() } })
      .then(function (response) {
        return response.json().then(function (result) { return { ok: response.ok, result: result }; });
      })
      .then(function (answer) {
        if (answer.ok && answer.result.confirm_by_email) {
          button.textContent = t("confirm_in_mailbox");
          button.disabled = true;
        } else if (answer.ok) {
          supported.add(reportId);
          count.textContent = t("me_too_count", { count: answer.result.supports });
          markSupported(button);
          refreshNearby();
        } else {
          say(answer.result.error.message);
        }
      });
  }

  function markSupported(button) {
    button.textContent = t("counted");
    button.disabled = true;
  }

  function refreshNearby() {
    var section = document.getElementById("nearby");
    var list = document.getElementById("nearby-list");
    if (!lonInput.value || !latInput.value || !category.value) {
      section.hidden = true;
      nearbyShown = null;
      return;
    }
    var url = form.dataset.nearbyUrl + "?lon=" + encodeURIComponent(lonInput.value) +
      "&lat=" + encodeURIComponent(latInput.value) + "&category=" +
      encodeURIComponent(category.value);
    // The same place and category asked again keeps the list as it is, so a "Me too"
    // just given is not drawn over by the same answer.
    if (url === nearbyShown) { return; }
    nearbyShown = url;
    var mine = ++nearbyGeneration;
    section.setAttribute("aria-busy", "true");
    fetch(url).then(function (response) { return response.ok ? response.json() : null; })
      .then(function (result) {
        if (mine !== nearbyGeneration) { return; }
        section.setAttribute("aria-busy", "false");
        list.replaceChildren();
        if (!result) { nearbyShown = null; }
        if (!result || !result.reports.length) { section.hidden = true; return; }
        result.reports.forEach(function (report) { list.appendChild(nearbyItem(report)); });
        section.hidden = false;
      })
      .catch(function () {
        // Offline or the server unreachable: the list stays hidden and is asked again later.
        if (mine !== nearbyGeneration) { return; }
        nearbyShown = null;
        section.setAttribute("aria-busy", "false");
        section.hidden = true;
      });
  }

  category.addEventListener("change", refreshNearby);

  function placePin(lon, lat, message) {
    lonInput.value = lon.toFixed(6);
    latInput.value = lat.toFixed(6);
    if (map) {
      if (marker) {
        marker.setLatLng([lat, lon]);
      } else {
        marker = L.marker([lat, lon], { draggable: true, keyboard: true, title: t("pin_title") })
          .addTo(map);
        marker.on("dragend", function () {
          var point = marker.getLatLng();
          placePin(point.lng, point.lat);
        });
      }
    }
    if (message) { say(message); }
    form.dispatchEvent(new CustomEvent("pinplaced", { detail: { lon: lon, lat: lat } }));
    refreshCategories(lon, lat, message);
  }

  var STREET_ZOOM = 17;
  var PIN_METRES_PER_PIXEL = 5;

  function metresPerPixel() {
    var equator = 40075016.686;
    return equator * Math.cos(map.getCenter().lat * Math.PI / 180) /
      (256 * Math.pow(2, map.getZoom()));
  }

  var bounds = (form.dataset.bounds || "").split(",").map(Number);
  if (map && bounds.length === 4) {
    map.fitBounds([[bounds[1], bounds[0]], [bounds[3], bounds[2]]], { animate: false });
  }

  if (map) {
    map.on("click", function (event) {
      if (metresPerPixel() > PIN_METRES_PER_PIXEL) {  // a tap there would miss by a block
        map.setView(event.latlng, STREET_ZOOM);
        say(t("tap_again"));
        return;
      }
      placePin(event.latlng.lng, event.latlng.lat);
    });
    if (lonInput.value && latInput.value) {
      placePin(parseFloat(lonInput.value), parseFloat(latInput.value));
    }
  }

  document.getElementById("pin-at-centre").addEventListener("click", function () {
    if (!map) { return; }
    var centre = map.getCenter();
    if (metresPerPixel() > PIN_METRES_PER_PIXEL) {  // the centre of a whole district
      map.setView(centre, STREET_ZOOM);
      say(t("centre_zoomed"));
      return;
    }
    placePin(centre.lng, centre.lat);
  });

  document.getElementById("use-location").addEventListener("click", function () {
    if (!navigator.geolocation) {
      say(t("no_geolocation"));
      return;
    }
    say(t("finding_location"));
    navigator.geolocation.getCurrentPosition(function (position) {
      var lon = position.coords.longitude, lat = position.coords.latitude;
      if (map) { map.setView([lat, lon], 17); }
      placePin(lon, lat, t("pin_at_location"));
    }, function () {
      say(t("location_unavailable"));
    }, { enableHighAccuracy: true, timeout: 15000 });
  });

  [lonInput, latInput].forEach(function (input) {
    input.addEventListener("change", function () {
      var lon = parseFloat(lonInput.value), lat = parseFloat(latInput.value);
      if (isFinite(lon) && isFinite(lat)) {
        placePin(lon, lat);
        if (map) { map.panTo([lat, lon]); }
      }
    });
  });

  // A photo's GPS position (read on the phone by photo_upload.js) proposes the pin.
  window.reportForm = {
    choosePlace: function (lon, lat, message) {
      if (map) { map.setView([lat, lon], STREET_ZOOM); }
      placePin(lon, lat, message);
    },
    proposePosition: function (lon, lat) {
      if (lonInput.value) { return; }
      if (map) { map.setView([lat, lon], 17); }
      placePin(lon, lat, t("pin_at_photo"));
    }
  };
}());
