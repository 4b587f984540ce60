// After sending: Copy and Share the private link, and remember it in "My reports" on this
// phone only (localStorage: this list never leaves the browser).
(function () {
  "use strict";
  var KEY = "myReports";
  var t = window.uiText;

  function remembered() {
    try { return JSON.parse(localStorage.getItem(KEY)) || []; } catch (e) { return []; }
  }

  function remember(link, title) {
    var match = /\/reports\/(\d+)\/manage\//.exec(link);
    if (!match) { return; }
    var id = parseInt(match[1], 10);
    var reports = remembered().filter(function (r) { return r.id !== id; });
    reports.unshift({ id: id, link: link, title: title, sent: new Date().toISOString() });
    try { localStorage.setItem(KEY, JSON.stringify(reports.slice(0, 100))); } catch (e) { /* full */ }
  }

  function offerCopyAndShare(anchor) {
    var status = document.getElementById("link-status");
    var share = document.getElementById("share-link");
    document.getElementById("private-link-actions").hidden = false;
    document.getElementById("copy-link").addEventListener("click", function () {
      navigator.clipboard.writeText(anchor.href).then(function () {
        status.textContent = t("link_copied");
      }, function () {
        status.textContent = t("link_not_copied");
      });
    });
    if (navigator.share) {
      share.hidden = false;
      share.addEventListener("click", function () {
        navigator.share({ title: document.title, url: anchor.href }).catch(function () {});
      });
    }
  }

  function showList(list) {
    var reports = remembered();
    document.getElementById("my-reports-empty").hidden = reports.length > 0;
    reports.forEach(function (report) {
      var item = document.createElement("li");
      var link = document.createElement("a");
      link.href = report.link;
      link.textContent = "#" + report.id + " " + report.title;
      var when = document.createElement("p");
      when.className = "meta";
      when.textContent = t("sent_on", { date: new Date(report.sent).toLocaleString() });
      var forget = document.createElement("button");
      forget.type = "button";
      forget.textContent = t("forget_on_phone", { id: report.id });
      forget.addEventListener("click", function () {
        localStorage.setItem(KEY, JSON.stringify(remembered().filter(function (r) {
          return r.id !== report.id;
        })));
        item.remove();
        document.getElementById("my-reports-empty").hidden = remembered().length > 0;
      });
      item.append(link, when, forget);
      list.appendChild(item);
    });
  }

  var anchor = document.getElementById("private-link");
  if (anchor && !anchor.dataset.ready) {
    anchor.dataset.ready = "yes";
    var heading = document.querySelector("main h1");
    remember(anchor.href, heading ? heading.textContent.replace(/\s*#\d+\s*$/, "").trim() : "");
    offerCopyAndShare(anchor);
  }
  var list = document.getElementById("my-reports-list");
  if (list && !list.dataset.ready) {
    list.dataset.ready = "yes";
    showList(list);
  }
}());
