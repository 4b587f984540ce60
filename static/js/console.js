// The dispatcher console: selection and the sticky bulk bar, keyboard shortcuts, "Nearest
// to me" (queue); response templates filling the public note (report page). Everything
// works without it: the bulk bar is always there, links and forms are ordinary.
(function () {
  "use strict";

  var textBlock = document.getElementById("console-text");
  var words = textBlock ? JSON.parse(textBlock.textContent) : {};

  function queue() {
    var form = document.getElementById("bulk-form");
    if (!form) { return; }
    var rows = Array.prototype.slice.call(form.querySelectorAll("tbody tr[data-url]"));
    var boxes = rows.map(function (row) { return row.querySelector("input[name=report]"); });
    var all = document.getElementById("select-all");
    var bar = document.getElementById("bulk-bar");
    var count = document.getElementById("selected-count");
    var current = -1;

    function refresh() {
      var chosen = boxes.filter(function (box) { return box.checked; }).length;
      bar.classList.toggle("has-selection", chosen > 0);
      bar.hidden = chosen === 0 && !document.getElementById("bulk-errors");
      count.textContent = chosen === 0 ? words.none_selected
        : chosen === 1 ? words.selected_one
        : words.selected_many.replace("{count}", chosen);
      all.checked = chosen > 0 && chosen === boxes.length;
      all.indeterminate = chosen > 0 && chosen < boxes.length;
      rows.forEach(function (row, i) { row.classList.toggle("selected", boxes[i].checked); });
    }

    function highlight(index) {
      current = index;
      rows.forEach(function (row, i) { row.classList.toggle("current", i === current); });
    }

    function moveTo(index) {
      if (!rows.length) { return; }
      highlight(Math.max(0, Math.min(rows.length - 1, index)));
      rows[current].querySelector("a").focus();
    }

    all.addEventListener("change", function () {
      boxes.forEach(function (box) { box.checked = all.checked; });
      refresh();
    });
    boxes.forEach(function (box, i) {
      box.addEventListener("change", refresh);
      box.addEventListener("focus", function () { highlight(i); });
    });
    rows.forEach(function (row, i) {
      row.querySelector("a").addEventListener("focus", function () { highlight(i); });
    });

    var dialog = document.getElementById("shortcuts");
    var help = document.getElementById("show-shortcuts");
    help.hidden = false;
    help.addEventListener("click", function () { dialog.showModal(); });

    document.addEventListener("keydown", function (event) {
      var target = event.target;
      var typing = /^(INPUT|SELECT|TEXTAREA)$/.test(target.tagName) && target.type !== "checkbox";
      if (typing || event.altKey || event.ctrlKey || event.metaKey || dialog.open) { return; }
      var key = event.key;
      if (key === "j") { moveTo(current + 1); }
      else if (key === "k") { moveTo(current - 1); }
      else if (key === "x" && current >= 0) {
        boxes[current].checked = !boxes[current].checked;
        refresh();
      } else if ((key === "o" || (key === "Enter" && target.tagName !== "A"
                 && target.tagName !== "BUTTON")) && current >= 0) {
        window.location.href = rows[current].getAttribute("data-url");
      } else if (key === "?") { dialog.showModal(); }
      else if (key === "b") { bar.hidden = false; document.getElementById("bulk-status").focus(); }
      else { return; }
      event.preventDefault();
    });
    refresh();
  }

  function nearest() {
    var button = document.getElementById("nearest");
    if (!button || !navigator.geolocation) { return; }
    var status = document.getElementById("near-status");
    button.hidden = false;
    button.addEventListener("click", function () {
      status.textContent = words.locating;
      navigator.geolocation.getCurrentPosition(function (position) {
        var url = new URL(button.getAttribute("data-url"), window.location.href);
        url.searchParams.set("near", position.coords.longitude.toFixed(6) + ","
                             + position.coords.latitude.toFixed(6));
        url.searchParams.delete("page");
        window.location.href = url.toString();
      }, function () { status.textContent = words.no_location; },
      { enableHighAccuracy: true, timeout: 15000 });
    });
  }

  function responseTemplates() {
    var picker = document.getElementById("response-template");
    if (!picker) { return; }
    picker.addEventListener("change", function () {
      var option = picker.options[picker.selectedIndex];
      if (!option.value) { return; }
      document.getElementById("public-note").value = option.getAttribute("data-text");
      var status = option.getAttribute("data-status");
      var select = document.getElementById("new-status");
      if (status && select.querySelector("option[value='" + status + "']")) {
        select.value = status;
      }
    });
  }

  queue();
  nearest();
  responseTemplates();
})();
