// The case page's documents list refreshes itself while documents are being made: the section
// carries data-refresh (the address of the same section alone) until every document is ready or
// has failed. Loaded as a file (the Content-Security-Policy allows no inline script); without
// JavaScript the page still works, a reload shows the documents.
(function () {
  "use strict";
  var INTERVAL_MS = 2000;
  var GIVE_UP_AFTER_MS = 10 * 60 * 1000;
  var started = Date.now();

  function schedule() {
    var section = document.querySelector("section[data-refresh]");
    if (!section || Date.now() - started > GIVE_UP_AFTER_MS) {
      return;
    }
    window.setTimeout(function () { refresh(section); }, INTERVAL_MS);
  }

  function refresh(section) {
    fetch(section.getAttribute("data-refresh"), {credentials: "same-origin", headers: {"Accept": "text/html"}})
      .then(function (resp) {
        if (!resp.ok) { throw new Error(String(resp.status)); }
        return resp.text();
      })
      .then(function (html) {
        var holder = document.createElement("div");
        holder.innerHTML = html;
        var fresh = holder.querySelector("section#documents");
        if (fresh) {
          section.replaceWith(fresh);
        }
        schedule();
      })
      .catch(function () {
        INTERVAL_MS = Math.min(INTERVAL_MS * 2, 30000);  // the server is busy or away: ask less often
        schedule();
      });
  }

  document.addEventListener("DOMContentLoaded", schedule);
}());
