// Eventyard console: live fragments over server-sent events, and a few conveniences.
// An element with data-live="<fragment URL>" is re-rendered by the server whenever its content
// changes; the server pushes the new HTML over one EventSource per page.
(function () {
  "use strict";

  function liveSources() {
    return Array.prototype.map.call(document.querySelectorAll("[data-live]"), function (el) {
      return el.getAttribute("data-live");
    });
  }

  function connect() {
    var sources = liveSources();
    if (!sources.length || !window.EventSource) { return; }
    var query = sources.map(function (s) { return "src=" + encodeURIComponent(s); }).join("&");
    var stream = new EventSource(document.body.dataset.mount + "/live?" + query);
    stream.addEventListener("fragment", function (event) {
      var update = JSON.parse(event.data);
      document.querySelectorAll("[data-live]").forEach(function (el) {
        if (el.getAttribute("data-live") !== update.src) { return; }
        el.innerHTML = update.html;
        if (window.htmx) { window.htmx.process(el); }
        el.dataset.updated = String(Date.now());
      });
      document.body.dataset.liveUpdates = String(Number(document.body.dataset.liveUpdates || "0") + 1);
    });
    window.addEventListener("pagehide", function () { stream.close(); });
  }

  function confirmations() {
    document.addEventListener("submit", function (event) {
      var message = event.target.getAttribute("data-confirm");
      if (message && !window.confirm(message)) { event.preventDefault(); }
    });
    document.querySelectorAll("[data-autosubmit]").forEach(function (el) {
      el.addEventListener("change", function () { el.form.submit(); });
    });
  }

  document.addEventListener("DOMContentLoaded", function () { confirmations(); connect(); });
})();
