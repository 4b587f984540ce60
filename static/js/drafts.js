// Offline drafts, on every page (app/templates/pwa/_scripts.html): registers the service
// worker; on the report form, without a connection, Send keeps the report and its photos on
// this phone (IndexedDB) instead; whenever the phone is online, each draft is sent once:
// its photos staged, then the form posted with the draft's submission_key, which the server
// answers with the first report if it ever sees the key again.
(function () {
  "use strict";
  var t = window.uiText;
  var config = document.currentScript.dataset;
  var STORE = "drafts";
  var form = document.getElementById("report-form");
  var section = document.getElementById("drafts");
  var sent = [];  // drafts sent while this page is open: {key, id, url}
  var sending = false;
  var unreachable = false;  // the last try found no connection after all
  var retryDelay = 2000;
  var justSent = null;  // the last draft sent, to announce
  var justRefused = null;  // the last draft the server refused, to announce

  if ("serviceWorker" in navigator) {
    navigator.serviceWorker.register(config.worker).catch(function () { /* pages still work */ });
  }
  if (!window.indexedDB) { return; }

  function openDb() {
    return new Promise(function (resolve, reject) {
      var request = indexedDB.open("civic-reporter", 1);
      request.onupgradeneeded = function () {
        request.result.createObjectStore(STORE, { keyPath: "key" });
      };
      request.onsuccess = function () { resolve(request.result); };
      request.onerror = function () { reject(request.error); };
    });
  }

  function withStore(mode, work) {
    return openDb().then(function (db) {
      return new Promise(function (resolve, reject) {
        var tx = db.transaction(STORE, mode);
        var result = work(tx.objectStore(STORE));
        tx.oncomplete = function () { db.close(); resolve(result && result.result); };
        tx.onerror = function () { db.close(); reject(tx.error); };
      });
    });
  }

  var allDrafts = function () { return withStore("readonly", function (s) { return s.getAll(); }); };
  var putDraft = function (d) { return withStore("readwrite", function (s) { s.put(d); }); };
  var deleteDraft = function (key) {
    return withStore("readwrite", function (s) { s["delete"](key); });
  };

  // A fresh key for the form, in the server's alphabet (A-Z a-z 0-9 _ -), 22 characters.
  function newKey() {
    var bytes = crypto.getRandomValues(new Uint8Array(16));
    return btoa(String.fromCharCode.apply(null, bytes))
      .replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
  }

  // ---- Sending: once online, each draft in turn; the submission key makes a retry safe.

  function freshToken() {
    return fetch(config.reportUrl, { cache: "no-store", credentials: "same-origin" })
      .then(function (r) { return r.text(); })
      .then(function (html) {
        var page = new DOMParser().parseFromString(html, "text/html");
        return page.querySelector("meta[name=csrf-token]").content;
      });
  }

  function stagePhoto(blob, token) {
    var body = new FormData();
    body.append("photo", blob, "photo.jpg");
    return fetch(config.stageUrl, { method: "POST", body: body, headers: { "X-CSRFToken": token } })
      .then(function (r) {
        return r.json().then(function (answer) {
          if (r.status !== 201) { throw new Refused(answer.error ? answer.error.message : ""); }
          return answer.id;
        });
      });
  }

  function Refused(message) { this.message = message; }

  function postDraft(draft, token, photoIds) {
    var body = new FormData();
    draft.fields.forEach(function (pair) { body.append(pair[0], pair[1]); });
    body.set("csrf_token", token);
    photoIds.forEach(function (id) { body.append("staged_photo", id); });
    return fetch(config.reportUrl, { method: "POST", body: body }).then(function (r) {
      return r.text().then(function (html) {
        var page = new DOMParser().parseFromString(html, "text/html");
        var report = /\/reports\/(\d+)$/.exec(new URL(r.url).pathname);
        if (r.ok && report) {
          var link = page.querySelector(".private-link");
          return { id: report[1], url: r.url, privateLink: link && link.href };
        }
        var problem = page.querySelector("#error-summary li") ||
          page.querySelector(".error-message, [role=alert]");
        throw new Refused(problem ? problem.textContent.trim() : String(r.status));
      });
    });
  }

  function sendOne(draft) {
    return freshToken().then(function (token) {
      return draft.photos.reduce(function (chain, blob) {
        return chain.then(function (ids) {
          return stagePhoto(blob, token).then(function (id) { return ids.concat([id]); });
        });
      }, Promise.resolve([])).then(function (ids) { return postDraft(draft, token, ids); });
    }).then(function (report) {
      sent.push({ key: draft.key, id: report.id, url: report.url });
      justSent = report;
      return deleteDraft(draft.key);
    }, function (error) {
      if (!(error instanceof Refused)) { unreachable = true; return null; }  // try later
      draft.refused = error.message;
      justRefused = draft;
      return putDraft(draft);
    });
  }

  // "Online" may come before the network carries anything (or a weak signal drops): a
  // draft that could not reach the server is tried again, less and less often.
  function retryLater() {
    setTimeout(sendAllOnce, retryDelay);
    retryDelay = Math.min(retryDelay * 2, 60000);
  }

  function sendAll() {
    if (sending || !navigator.onLine) { return Promise.resolve(); }
    sending = true;
    unreachable = false;
    return allDrafts().then(function (drafts) {
      var waiting = drafts.filter(function (d) { return !d.refused; });
      return waiting.reduce(function (chain, draft) {
        return chain.then(function () { return sendOne(draft); });
      }, Promise.resolve());
    }).then(function () {
      sending = false;
      if (unreachable) { retryLater(); } else { retryDelay = 2000; }
      return render().then(function () {
        if (justRefused && section) {
          announce(t("draft_refused", { message: justRefused.refused }));
        } else if (justSent && section) {
          announce(t("draft_sent", { id: justSent.id }));
        }
        justSent = justRefused = null;
      });
    }, function () { sending = false; });
  }

  // Web Locks keep two open tabs from sending the same drafts at once.
  function sendAllOnce() {
    if (navigator.locks) {
      return navigator.locks.request("civic-reporter-drafts", sendAll);
    }
    return sendAll();
  }

  window.addEventListener("online", sendAllOnce);
  if (navigator.onLine) { sendAllOnce(); }

  // ---- The list of drafts on the form page: review and delete.

  function categoryName(code) {
    var option = form && form.querySelector("#category option[value='" + CSS.escape(code) + "']");
    return option ? option.textContent : code;
  }

  function field(draft, name) {
    var pair = draft.fields.filter(function (p) { return p[0] === name; })[0];
    return pair ? pair[1] : "";
  }

  function text(tag, content, className) {
    var node = document.createElement(tag);
    node.textContent = content;
    if (className) { node.className = className; }
    return node;
  }

  function draftItem(draft) {
    var item = document.createElement("li");
    item.dataset.key = draft.key;
    item.appendChild(text("strong", categoryName(field(draft, "category"))));
    var description = field(draft, "description");
    item.appendChild(text("p", description.length > 120 ?
      description.slice(0, 120) + "…" : description, "excerpt"));
    item.appendChild(text("p", t("draft_details", {
      saved: new Date(draft.savedAt).toLocaleString(document.documentElement.lang),
      photos: draft.photos.length
    }), "meta"));
    item.appendChild(text("p", draft.refused ? t("draft_refused", { message: draft.refused }) :
      t("draft_waiting"), draft.refused ? "field-error" : "meta"));
    var remove = text("button", t("delete_draft"));
    remove.type = "button";
    remove.addEventListener("click", function () {
      deleteDraft(draft.key).then(render).then(function () {
        announce(t("draft_deleted"));
      });
    });
    item.appendChild(remove);
    return item;
  }

  function sentItem(report) {
    var item = document.createElement("li");
    var link = text("a", t("draft_sent", { id: report.id }));
    link.href = report.url;
    item.appendChild(link);
    return item;
  }

  function announce(message) {
    var status = document.getElementById("drafts-status");
    status.textContent = message;
  }

  function render() {
    if (!section) { return Promise.resolve(); }
    return allDrafts().then(function (drafts) {
      var list = document.getElementById("drafts-list");
      list.textContent = "";
      drafts.forEach(function (d) { list.appendChild(draftItem(d)); });
      sent.forEach(function (r) { list.appendChild(sentItem(r)); });
      section.hidden = !drafts.length && !sent.length && !section.dataset.announced;
    });
  }

  // ---- Saving: offline, Send keeps the report here instead of losing it.

  if (!form || !section) { return; }
  var input = document.getElementById("photos");
  var previews = document.getElementById("photo-previews");

  // Offline, a chosen photo stays on the phone (shown, removable) instead of being uploaded.
  input.addEventListener("change", function (event) {
    if (navigator.onLine) { return; }
    event.stopImmediatePropagation();
    var room = parseInt(input.dataset.max, 10) - previews.children.length;
    Array.prototype.slice.call(input.files, 0, Math.max(room, 0)).forEach(function (file) {
      var item = document.createElement("li");
      item.draftPhoto = file;
      var img = document.createElement("img");
      img.width = 96;
      img.height = 96;
      img.alt = t("photo_n", { number: previews.children.length + 1 });
      img.src = URL.createObjectURL(file);
      var remove = text("button", t("remove_photo", { number: previews.children.length + 1 }),
        "remove-photo");
      remove.type = "button";
      item.append(img, remove);
      previews.appendChild(item);
    });
    input.value = "";
    document.getElementById("photo-status").textContent = t("photo_kept");
  }, true);

  function shrunk(file) {
    return window.photoShrink ? window.photoShrink.shrink(file) : Promise.resolve(file);
  }

  function saveDraft() {
    var data = new FormData(form);
    data["delete"]("csrf_token");
    var fields = [];
    data.forEach(function (value, name) {
      if (typeof value === "string") { fields.push([name, value]); }
    });
    var files = Array.prototype.map.call(previews.querySelectorAll("li"), function (item) {
      return item.draftPhoto;
    }).filter(Boolean);
    // A key of its own: the form kept offline is the same page every time, with one key.
    var key = newKey();
    fields = fields.filter(function (pair) { return pair[0] !== "submission_key"; })
      .concat([["submission_key", key]]);
    return Promise.all(files.map(shrunk)).then(function (photos) {
      return putDraft({ key: key, savedAt: Date.now(), fields: fields, photos: photos });
    });
  }

  function saved() {
    section.hidden = false;
    announce(t("draft_saved"));
    section.querySelector("h2").focus();
  }

  // A clean form for the next report: the page again (from the worker's cache offline),
  // which then says the draft is saved.
  function startAfresh() {
    if (navigator.serviceWorker && navigator.serviceWorker.controller) {
      sessionStorage.setItem("draft-saved", "1");
      history.scrollRestoration = "manual";  // the clean form opens at its top
      window.location.reload();
      return Promise.resolve();
    }
    form.reset();
    previews.textContent = "";
    return render().then(saved);
  }

  form.addEventListener("submit", function (event) {
    if (navigator.onLine) { return; }
    event.preventDefault();
    event.stopImmediatePropagation();
    var missing = ["lon", "category", "description"].some(function (name) {
      return !form.elements[name].value.trim();
    });
    section.hidden = false;
    section.dataset.announced = "1";
    if (missing) {
      announce(t("draft_incomplete"));
      section.querySelector("h2").focus();
      return;
    }
    saveDraft().then(startAfresh, function () { announce(t("draft_not_saved")); });
  }, true);

  render().then(function () {
    var fromWorker = new URLSearchParams(window.location.search).get("draft") === "saved";
    if (sessionStorage.getItem("draft-saved") || fromWorker) {
      sessionStorage.removeItem("draft-saved");
      if (fromWorker) { history.replaceState(null, "", window.location.pathname); }
      saved();
    }
  });
}());
