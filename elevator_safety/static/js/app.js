// Small progressive enhancements; every page works without this file.
"use strict";
document.addEventListener("submit", function (event) {
  // Ask before irreversible acts: forms carry data-confirm="question".
  var form = event.target;
  var question = form.getAttribute && form.getAttribute("data-confirm");
  if (question && !window.confirm(question)) {
    event.preventDefault();
    return;
  }
  // Stop double submission: disable the buttons once the form is on its way.
  if (!event.defaultPrevented) {
    window.setTimeout(function () {
      form.querySelectorAll("button[type=submit]").forEach(function (b) { b.disabled = true; });
    }, 0);
  }
});
document.addEventListener("click", function (event) {
  var el = event.target.closest && event.target.closest("[data-copy]");
  if (el && navigator.clipboard) {
    navigator.clipboard.writeText(el.getAttribute("data-copy"));
    el.classList.add("copied");
  }
});
