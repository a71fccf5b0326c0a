// The reports' charts (Chart.js from npm, served as /static/vendor/chart.umd.min.js). The figures
// come from the JSON block the page renders; the tables beneath each chart hold the same numbers.
(function () {
  "use strict";
  function draw() {
    var block = document.getElementById("report-charts");
    if (!block || typeof Chart === "undefined") return;
    var charts = JSON.parse(block.textContent);
    var colours = ["#2563eb", "#16a34a", "#dc2626", "#9333ea", "#ea580c", "#0891b2"];
    document.querySelectorAll("canvas[data-chart]").forEach(function (canvas) {
      var spec = charts[canvas.dataset.chart];
      if (!spec) return;
      var datasets = spec.sets.map(function (set, i) {
        return {
          type: set.kind, label: set.label, data: set.data, borderColor: colours[i % colours.length],
          backgroundColor: colours[i % colours.length] + (set.kind === "bar" ? "99" : "33"),
          spanGaps: true, pointRadius: spec.labels.length > 60 ? 0 : 2, tension: 0.2
        };
      });
      canvas.chart = new Chart(canvas, {
        type: "bar", data: {labels: spec.labels, datasets: datasets},
        options: {responsive: true, maintainAspectRatio: false, animation: false,
                  interaction: {mode: "index", intersect: false}, scales: {y: {beginAtZero: true}}}
      });
    });
    document.body.dataset.chartsDrawn = "1";
  }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", draw);
  else draw();
})();
