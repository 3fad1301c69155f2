// The bulk export's job page (desk/export_detail.html): polls the job's JSON status and
// moves the progress bar; when the job has finished (done, failed), reloads the page so
// that the server renders the download link. Without this file, a meta refresh reloads it.
"use strict";
(function () {
  function poll(box) {
    var url = box.getAttribute("data-status-url");
    var seconds = parseInt(box.getAttribute("data-interval"), 10) || 3;
    var bar = box.querySelector("[data-export-bar]");
    var text = box.querySelector("[data-export-text]");
    var label = box.querySelector("[data-export-label] .badge");
    function show(status) {
      if (bar) { bar.value = status.percent; bar.textContent = status.percent + " %"; }
      if (text) { text.textContent = status.text; }  // the server's sentence, in the user's language
      if (label) { label.textContent = status.label; label.setAttribute("data-status", status.status); }
      box.setAttribute("data-percent", String(status.percent));
    }
    function tick() {
      fetch(url, { headers: { "Accept": "application/json" }, credentials: "same-origin", cache: "no-store" })
        .then(function (response) {
          if (!response.ok) { throw new Error("HTTP " + response.status); }
          return response.json();
        })
        .then(function (status) {
          show(status);
          if (status.finished) { window.location.reload(); return; }
          window.setTimeout(tick, seconds * 1000);
        })
        .catch(function () { window.setTimeout(tick, seconds * 3000); });
    }
    window.setTimeout(tick, seconds * 1000);
  }
  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll("[data-export-job]").forEach(function (box) {
      if (box.getAttribute("data-finished") !== "true") { poll(box); }
    });
  });
})();
