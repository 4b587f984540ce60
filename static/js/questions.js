// The category's questions in the report form: fetched as soon as a category is chosen (no
// page reload), and a blocking answer shown at once, with the Send button disabled and a
// line beside it saying why. Without this script, the "Show the questions" button sends the
// form back to the page instead.
(function () {
  "use strict";
  var form = document.getElementById("report-form");
  var box = document.getElementById("questions");
  if (!form || !box) { return; }
  var category = document.getElementById("category");
  var list = document.getElementById("question-list");
  var refresh = document.getElementById("show-questions");
  var send = Array.prototype.filter.call(
    form.querySelectorAll("button[type=submit]"), function (b) { return b !== refresh; }
  ).pop();
  var note = document.createElement("p");
  var loaded = category.value;
  var generation = 0;

  refresh.hidden = true;
  note.id = "send-blocked";
  note.className = "error-message";
  note.setAttribute("role", "alert");
  note.hidden = true;
  send.insertAdjacentElement("afterend", note);

  function load() {
    var mine = ++generation;
    loaded = category.value;
    if (!loaded) {
      list.replaceChildren();
      check();
      return;
    }
    list.setAttribute("aria-busy", "true");
    fetch(box.dataset.url + "?category=" + encodeURIComponent(loaded))
      .then(function (response) { return response.ok ? response.text() : ""; })
      .then(function (html) {
        if (mine !== generation) { return; }
        list.innerHTML = html;
        list.setAttribute("aria-busy", "false");
        check();
      });
  }

  function chosenBlocking(within) {
    return within.querySelector("option:checked[data-blocking], input:checked[data-blocking]");
  }

  function check() {
    list.querySelectorAll(".question").forEach(function (question) {
      var message = question.querySelector(".blocking-message");
      var chosen = chosenBlocking(question);
      message.textContent = chosen ? chosen.dataset.blocking : "";
      message.hidden = !chosen;
    });
    var first = chosenBlocking(list);
    send.disabled = Boolean(first);
    note.hidden = !first;
    note.textContent = first ? box.dataset.blockedText + " " + first.dataset.blocking : "";
    if (first) {
      send.setAttribute("aria-describedby", note.id);
    } else {
      send.removeAttribute("aria-describedby");
    }
  }

  category.addEventListener("change", load);
  // The map's script rebuilds the category list when the pin moves, without a change event.
  new MutationObserver(function () {
    if (category.value !== loaded) { load(); }
  }).observe(category, { childList: true });
  list.addEventListener("change", check);
  if (category.value && !list.querySelector(".question")) { load(); } else { check(); }
}());
