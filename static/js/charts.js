// Draws every <canvas data-chart="ID"> from the Chart.js config in <script type="application/json" id="ID">.
(function () {
  if (typeof Chart === "undefined") return;
  Chart.defaults.font.family = getComputedStyle(document.body).fontFamily;
  Chart.defaults.maintainAspectRatio = false;
  Chart.defaults.animation = false;
  document.querySelectorAll("canvas[data-chart]").forEach(function (canvas) {
    var source = document.getElementById(canvas.dataset.chart);
    if (!source) return;
    new Chart(canvas, JSON.parse(source.textContent));
  });
})();
