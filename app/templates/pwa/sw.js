// The service worker (app/web/pwa.py): keeps the app shell so the form opens without a
// connection, and nothing a resident or a member of staff should not leave on a phone.
"use strict";
const CACHE = "shell-{{ version }}";
const SHELL = {{ shell|tojson }};
const NEVER_CACHED = {{ never_cached|list|tojson }};
const OFFLINE_PAGE = {{ offline_page|tojson }};

self.addEventListener("install", (event) => {
  // Fetched by the worker itself, so no page a reader saw is ever kept; X-App-Shell asks
  // for the page without the notices waiting for the reader (a new report's private link).
  const fresh = (url) => new Request(url, { cache: "reload", headers: { "X-App-Shell": "1" } });
  event.waitUntil(caches.open(CACHE)
    .then((cache) => cache.addAll(SHELL.map(fresh)))
    .then(() => self.skipWaiting()));
});

self.addEventListener("activate", (event) => {
  event.waitUntil(caches.keys()
    .then((names) => Promise.all(names.filter((name) => name !== CACHE)
      .map((name) => caches.delete(name))))
    .then(() => self.clients.claim()));
});

function isKept(url) {
  return url.origin === self.location.origin &&
    !NEVER_CACHED.some((prefix) => url.pathname.startsWith(prefix)) &&
    !/\/manage\//.test(url.pathname);
}

// The form posted while the phone believed it was online, and the network failed (a weak
// signal, a Wi-Fi without internet): the report is kept as a draft, as the page does offline
// (static/js/drafts.js, same database), with a key of its own, and the form says so.
function newKey() {
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  return btoa(String.fromCharCode(...bytes)).replace(/\+/g, "-").replace(/\//g, "_")
    .replace(/=+$/, "");
}

function keepDraft(data) {
  const key = newKey();
  const fields = [];
  const photos = [];
  for (const [name, value] of data.entries()) {
    if (typeof value !== "string") {
      if (value.size) { photos.push(value); }
    } else if (name !== "csrf_token" && name !== "submission_key") {
      fields.push([name, value]);
    }
  }
  fields.push(["submission_key", key]);
  return new Promise((resolve, reject) => {
    const opening = indexedDB.open("civic-reporter", 1);
    opening.onupgradeneeded = () => opening.result.createObjectStore("drafts", { keyPath: "key" });
    opening.onerror = () => reject(opening.error);
    opening.onsuccess = () => {
      const tx = opening.result.transaction("drafts", "readwrite");
      tx.objectStore("drafts").put({ key, savedAt: Date.now(), fields, photos });
      tx.oncomplete = () => { opening.result.close(); resolve(); };
      tx.onerror = () => reject(tx.error);
    };
  });
}

async function sendOrKeep(request) {
  const copy = request.clone();
  try {
    return await fetch(request);
  } catch (error) {
    await keepDraft(await copy.formData());
    return Response.redirect(OFFLINE_PAGE + "?draft=saved", 303);
  }
}

self.addEventListener("fetch", (event) => {
  const request = event.request;
  const url = new URL(request.url);
  if (request.method === "POST" && request.mode === "navigate" &&
      url.origin === self.location.origin && url.pathname === OFFLINE_PAGE) {
    event.respondWith(sendOrKeep(request));
    return;
  }
  if (request.method !== "GET" || !isKept(url)) { return; }  // the network, as without us
  if (request.mode === "navigate") {
    // Pages: always the network when there is one; the kept copy only offline.
    event.respondWith(fetch(request).catch(() => caches.match(url.pathname)
      .then((kept) => kept || caches.match(OFFLINE_PAGE))));
    return;
  }
  if (SHELL.includes(url.pathname)) {
    // Styles, scripts and libraries: named by content or version, so a kept copy is current.
    event.respondWith(caches.match(url.pathname).then((kept) => kept || fetch(request)));
  }
});
