// The outcome trend on a patient's aftercare page: data from the page's json_script, no inline script (CSP).
(function () {
  "use strict";
  var canvas = document.getElementById("outcome-chart");
  var source = document.getElementById("outcome-chart-data");
  if (!canvas || !source || typeof Chart === "undefined") {
    return;
  }
  var data = JSON.parse(source.textContent);
  new Chart(canvas, {
    type: "line",
    data: {
      labels: data.labels,
      datasets: [
        { label: "PHQ-9 (0-27)", data: data.series.phq9, spanGaps: true, borderColor: "#0d6efd", backgroundColor: "#0d6efd" },
        { label: "GAD-7 (0-21)", data: data.series.gad7, spanGaps: true, borderColor: "#d63384", backgroundColor: "#d63384" }
      ]
    },
    options: {
      animation: false,
      maintainAspectRatio: false,
      scales: { y: { min: 0, max: 27, title: { display: true, text: "Total score" } } }
    }
  });
})();
