/* Draws the province dashboard's charts from the JSON the page embeds (id="chart-data"). */
(function () {
  "use strict";
  var source = document.getElementById("chart-data");
  if (!source || typeof Chart === "undefined") { return; }
  var data = JSON.parse(source.textContent);
  var font = { family: "system-ui, sans-serif" };
  Chart.defaults.font.family = font.family;

  var datasets = [
    { type: "bar", label: data.labels.criterion, data: data.criterion, backgroundColor: "#0d6efd" }
  ];
  if (data.previous.some(function (v) { return v !== null; })) {
    datasets.push({ type: "bar", label: data.labels.previous, data: data.previous, backgroundColor: "#adb5bd" });
  }
  if (data.target !== null) {
    datasets.push({
      type: "line", label: data.labels.target, borderColor: "#dc3545", borderDash: [6, 4],
      pointRadius: 0, fill: false,
      data: data.districts.map(function () { return data.target; })
    });
  }
  new Chart(document.getElementById("criterion-chart"), {
    data: { labels: data.districts, datasets: datasets },
    options: { animation: false, scales: { y: { min: 0, max: 100, ticks: { callback: function (v) { return v + "%"; } } } } }
  });
  new Chart(document.getElementById("indicator-chart"), {
    type: "bar",
    data: { labels: data.indicators, datasets: [{ label: data.labels.indicator, data: data.indicatorShares, backgroundColor: "#198754" }] },
    options: { animation: false, indexAxis: "y", scales: { x: { min: 0, max: 100 } } }
  });
})();
