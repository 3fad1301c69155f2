// The entrapment timer (困人) on the lockout pages: time since the alarm, ticking every second.
// The server renders the elapsed seconds and the limit; without this file its value is shown.
"use strict";
(function () {
  function pad(n) { return (n < 10 ? "0" : "") + n; }
  function text(seconds) { return pad(Math.floor(seconds / 60)) + ":" + pad(seconds % 60); }
  function start(el) {
    var elapsed = parseInt(el.getAttribute("data-elapsed"), 10);
    var limit = parseInt(el.getAttribute("data-limit"), 10) * 60;
    if (isNaN(elapsed) || isNaN(limit)) { return; }
    var origin = Date.now() - elapsed * 1000; // the browser's clock only measures the ticks
    var out = el.querySelector("[data-timer-text]");
    var late = el.querySelector("[data-timer-late]");
    function tick() {
      var seconds = Math.max(0, Math.floor((Date.now() - origin) / 1000));
      if (out) { out.textContent = text(seconds); }
      if (seconds > limit) {
        el.setAttribute("data-late", "true");
        if (out) { out.classList.remove("badge-warn"); out.classList.add("badge-bad"); }
        if (!late) {
          // The server marks a late rescue; past the limit in the browser, add the same mark.
          late = document.createElement("span");
          late.className = "badge badge-bad";
          late.setAttribute("data-testid", "rescue-late");
          late.setAttribute("data-timer-late", "");
          late.textContent = el.getAttribute("data-late-text") || "Late";
          el.appendChild(document.createTextNode(" "));
          el.appendChild(late);
        }
      }
    }
    tick();
    window.setInterval(tick, 1000);
  }
  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll("[data-lockout-timer]").forEach(start);
  });
})();
