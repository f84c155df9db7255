// The outcome trend on a patient's aftercare page: data from the page's json_script, no inline script (CSP).
(function () {
  "use strict";
  var canvas = document.getElementById("outcome-chart");
  var source = document.getElementById("outcome-chart-data");
  if (!canvas || !source || typeof Chart === "undefined") {
    return;
  }
  var data = JSON.parse(source.textContent);
  function level(value) {
    return data.labels.map(function () { return value; });
  }
  function line(label, value, colour) {
    return { label: label, data: level(value), borderColor: colour, backgroundColor: colour, borderDash: [6, 4], pointRadius: 0, borderWidth: 1.5 };
  }
  var datasets = [
    { label: "PHQ-9 (0-27)", data: data.series.phq9, spanGaps: true, borderColor: "#0d6efd", backgroundColor: "#0d6efd" },
    { label: "GAD-7 (0-21)", data: data.series.gad7, spanGaps: true, borderColor: "#d63384", backgroundColor: "#d63384" }
  ];
  if (data.baseline !== null && data.baseline !== undefined) {
    datasets.push(line("PHQ-9 baseline (" + data.baseline + ")", data.baseline, "#6c757d"));
    datasets.push(line("Response: 50% below baseline", data.response_at, "#198754"));
  }
  datasets.push(line("Remission: PHQ-9 below " + data.remission_below, data.remission_below, "#20c997"));
  new Chart(canvas, {
    type: "line",
    data: {
      labels: data.labels,
      datasets: datasets
    },
    options: {
      animation: false,
      maintainAspectRatio: false,
      scales: { y: { min: 0, max: 27, title: { display: true, text: "Total score" } } }
    }
  });
})();
