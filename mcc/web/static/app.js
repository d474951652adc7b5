// MCC web app: no inline scripts (CSP); page behaviour is attached here by data attributes.
(function () {
  "use strict";
  // Charts: <canvas data-chart="id-of-a-json-script"> draws the JSON config (type, data, options) with Chart.js.
  function drawCharts(root) {
    if (typeof window.Chart === "undefined") return;
    root.querySelectorAll("canvas[data-chart]").forEach(function (canvas) {
      if (canvas.dataset.drawn) return;
      var source = document.getElementById(canvas.dataset.chart);
      if (!source) return;
      canvas.dataset.drawn = "1";
      var config = JSON.parse(source.textContent);
      config.options = Object.assign({ responsive: true, maintainAspectRatio: false, animation: false }, config.options || {});
      new window.Chart(canvas, config);
    });
  }
  // Filter forms: a change re-submits (keyboard users still have the submit button).
  function autoSubmit(root) {
    root.querySelectorAll("form[data-autosubmit] select").forEach(function (el) {
      el.addEventListener("change", function () { el.form.requestSubmit(); });
    });
  }
  document.addEventListener("DOMContentLoaded", function () { drawCharts(document); autoSubmit(document); });
  document.addEventListener("htmx:afterSwap", function (e) { drawCharts(e.target); });
})();
