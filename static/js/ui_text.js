// The words page scripts show, in the page's language: the server renders them into the
// JSON block #ui-text; uiText("key", {name: value}) fills their {name} placeholders.
(function () {
  "use strict";
  var words = JSON.parse(document.getElementById("ui-text").textContent);
  window.uiText = function (key, values) {
    return words[key].replace(/\{(\w+)\}/g, function (all, name) { return values[name]; });
  };
})();
