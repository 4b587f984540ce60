// Dates in page scripts read as on the server's pages: the city's day (the <html> element's
// data-time-zone), in the page's language; a browser set to another zone changes nothing.
(function () {
  "use strict";
  var root = document.documentElement;
  var format;
  window.localDay = function (iso) {
    if (!format) {
      format = new Intl.DateTimeFormat(root.lang || undefined,
        { dateStyle: "medium", timeZone: root.dataset.timeZone || "UTC" });
    }
    return format.format(new Date(iso));
  };
})();
