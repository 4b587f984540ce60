// The phone form: each chosen photo is shrunk, uploaded at once (with progress) and shown
// with "remove"; Send waits for the uploads, then is disabled so one tap is one report.
// After a refused try, focus goes to the list of problems and the map shows the same view.
(function () {
  "use strict";
  var t = window.uiText;
  var form = document.getElementById("report-form");
  var input = document.getElementById("photos");
  var previews = document.getElementById("photo-previews");
  var photoStatus = document.getElementById("photo-status");
  var send = document.getElementById("send-report");
  var sendStatus = document.getElementById("send-status");
  var mapView = document.getElementById("map_view");
  var map = window[form.dataset.map];
  var max = parseInt(input.dataset.max, 10);
  var pending = 0;
  var sendWhenReady = false;
  var uploads = Promise.resolve();

  function csrfToken() { return document.querySelector("meta[name=csrf-token]").content; }

  function renumber() {
    Array.prototype.forEach.call(previews.children, function (item, index) {
      var img = item.querySelector("img"), button = item.querySelector("button");
      if (img) { img.alt = t("photo_n", { number: index + 1 }); }
      if (button) { button.textContent = t("remove_photo", { number: index + 1 }); }
    });
  }

  function removeButton(item) {
    var button = document.createElement("button");
    button.type = "button";
    button.className = "remove-photo";
    item.appendChild(button);
    return button;
  }

  function discard(id) {
    fetch(input.dataset.stageUrl + "/" + encodeURIComponent(id), {
      method: "DELETE", headers: { "X-CSRFToken": csrfToken() }
    });
  }

  function forget(item) {
    var id = item.dataset.photoId;
    item.remove();
    renumber();
    photoStatus.textContent = t("photo_removed");
    input.focus();
    if (id) { discard(id); }
  }

  function upload(blob, item, progress) {
    return new Promise(function (resolve, reject) {
      var body = new FormData();
      body.append("photo", blob, "photo.jpg");
      var request = new XMLHttpRequest();
      request.open("POST", input.dataset.stageUrl);
      request.setRequestHeader("X-CSRFToken", csrfToken());
      request.responseType = "json";
      request.upload.addEventListener("progress", function (event) {
        if (event.lengthComputable) {
          progress.value = event.loaded / event.total;
          progress.textContent = Math.round(100 * progress.value) + "%";
        }
      });
      request.addEventListener("load", function () {
        var answer = request.response || {};
        if (request.status === 201) { resolve(answer); return; }
        reject(new Error(answer.error ? answer.error.message : t("photo_not_sent")));
      });
      request.addEventListener("error", function () { reject(new Error(t("photo_not_sent"))); });
      request.send(body);
    });
  }

  function staged(item, answer) {
    item.dataset.photoId = answer.id;
    if (!item.isConnected) { discard(answer.id); return; }  // removed while uploading
    var hidden = document.createElement("input");
    hidden.type = "hidden";
    hidden.name = "staged_photo";
    hidden.value = answer.id;
    item.appendChild(hidden);
    if (answer.position) {
      window.reportForm.proposePosition(answer.position.lon, answer.position.lat);
    }
  }

  function addPhoto(file) {
    var item = document.createElement("li");
    var img = document.createElement("img");
    img.width = 96;
    img.height = 96;
    var progress = document.createElement("progress");
    progress.max = 1;
    progress.setAttribute("aria-label", t("uploading_photo"));
    item.append(img, progress);
    previews.appendChild(item);
    removeButton(item);
    renumber();
    pending += 1;
    photoStatus.textContent = t("uploading_photo");
    window.photoShrink.readGps(file).then(function (gps) {
      if (gps) { window.reportForm.proposePosition(gps.lon, gps.lat); }
    });
    // One photo at a time: a phone holds one decoded photo in memory, the slow uplink is not
    // split, and the first answer gives this browser its owner cookie before the next.
    uploads = uploads.then(function () {
      return window.photoShrink.shrink(file);
    }).then(function (blob) {
      return upload(blob, item, progress);
    }).then(function (answer) {
      img.src = answer.thumbnail_url;
      staged(item, answer);
      photoStatus.textContent = t("photo_added");
    }, function (error) {
      item.classList.add("failed");
      var note = document.createElement("p");
      note.className = "field-error";
      note.textContent = error.message;
      item.insertBefore(note, item.querySelector("button"));
      photoStatus.textContent = error.message;
    }).then(function () {
      progress.remove();
      pending -= 1;
      if (!pending && sendWhenReady) { sendWhenReady = false; form.requestSubmit(send); }
    });
  }

  input.removeAttribute("name");  // photos go ahead, by POST /api/photos, never twice
  input.addEventListener("change", function () {
    var files = Array.prototype.slice.call(input.files);
    input.value = "";
    var room = max - previews.children.length;
    if (files.length > room) { photoStatus.textContent = t("too_many_photos", { count: max }); }
    files.slice(0, Math.max(room, 0)).forEach(addPhoto);
  });
  previews.addEventListener("click", function (event) {
    if (event.target.classList.contains("remove-photo")) {
      forget(event.target.closest("li"));
    }
  });
  previews.querySelectorAll("li.failed").forEach(function (item) { item.remove(); });
  renumber();

  form.addEventListener("submit", function (event) {
    if (pending) {
      event.preventDefault();
      sendWhenReady = true;
      send.disabled = true;
      sendStatus.textContent = t("waiting_for_photos");
      return;
    }
    previews.querySelectorAll("li.failed").forEach(function (item) { item.remove(); });
    send.disabled = true;
    send.setAttribute("aria-busy", "true");
    sendStatus.textContent = t("sending");
  });
  window.addEventListener("pageshow", function () {  // back to the form from the report
    send.disabled = false;
    send.removeAttribute("aria-busy");
    sendStatus.textContent = "";
  });

  // After a refusal the map shows what the resident was looking at, also if the page's
  // other scripts fit the map to the city once everything has loaded.
  var view = mapView.value.split(",").map(Number);
  function restoreView() {
    if (map && view.length === 3 && view.every(isFinite)) {
      map.setView([view[0], view[1]], view[2], { animate: false });
    }
  }
  if (map) {
    restoreView();
    window.addEventListener("load", restoreView, { once: true });
    map.on("moveend", function () {
      var centre = map.getCenter();
      mapView.value = [centre.lat.toFixed(6), centre.lng.toFixed(6), map.getZoom()].join(",");
    });
  }

  var summary = document.getElementById("error-summary");
  if (summary) { summary.focus(); }
}());
