// mention-monitor reports: draws the charts from the JSON the page carries (Chart.js, vendored).
// No inline script (the CSP forbids it): the data sits in <script type="application/json">.
(function () {
  "use strict";
  const source = document.getElementById("report-charts");
  if (!source || typeof Chart === "undefined") return;
  const charts = JSON.parse(source.textContent || "{}");
  const ink = "#1f2330", muted = "#6b7185", grid = "#e4e7ef";
  Chart.defaults.font.family = getComputedStyle(document.body).fontFamily;
  Chart.defaults.color = muted;
  Chart.defaults.animation = false;
  Chart.defaults.maintainAspectRatio = false;
  Chart.defaults.plugins.legend.labels.boxWidth = 12;

  // Shade the buckets in which a source was blind, behind the bars/lines.
  const gapShade = {
    id: "gapShade",
    beforeDatasetsDraw(chart, _args, opts) {
      const flags = opts && opts.flags;
      if (!flags || !flags.some(Boolean)) return;
      const x = chart.scales.x, area = chart.chartArea, ctx = chart.ctx;
      const step = flags.length > 1 ? Math.abs(x.getPixelForValue(1) - x.getPixelForValue(0)) : area.right - area.left;
      ctx.save();
      ctx.fillStyle = "rgba(220, 38, 38, 0.10)";
      flags.forEach((on, i) => {
        if (!on) return;
        const cx = x.getPixelForValue(i);
        ctx.fillRect(Math.max(area.left, cx - step / 2), area.top, step, area.bottom - area.top);
      });
      ctx.restore();
    },
  };

  const pct = (v) => (v === null || v === undefined ? "—" : v + "%");

  function build(kind, d) {
    switch (d.type) {
      case "volume":
        return {
          type: "bar",
          data: { labels: d.labels, datasets: d.datasets.map((s) => ({ label: s.label, data: s.data, backgroundColor: s.color, borderRadius: 2, stack: "v" })) },
          options: {
            scales: { x: { stacked: true, grid: { display: false }, ticks: { maxRotation: 0, autoSkipPadding: 12 } }, y: { stacked: true, beginAtZero: true, grid: { color: grid } } },
            plugins: { gapShade: { flags: d.gaps }, legend: { position: "bottom" } },
          },
          plugins: [gapShade],
        };
      case "sentiment":
        return {
          type: "line",
          data: { labels: d.labels, datasets: d.datasets.map((s) => ({ label: s.label, data: s.data, borderColor: s.color, backgroundColor: s.color, pointRadius: 2, tension: 0.25, spanGaps: true })) },
          options: {
            scales: { x: { grid: { display: false }, ticks: { maxRotation: 0, autoSkipPadding: 12 } }, y: { suggestedMin: -0.5, suggestedMax: 0.5, grid: { color: (c) => (c.tick.value === 0 ? "#9aa0b4" : grid) } } },
            plugins: { gapShade: { flags: d.gaps }, legend: { position: "bottom" } },
          },
          plugins: [gapShade],
        };
      case "histogram":
        return {
          type: "bar",
          data: { labels: d.labels, datasets: [{ label: "answered", data: d.data, backgroundColor: ["#15803d", "#65a30d", "#ca8a04", "#ea580c", "#dc2626"], borderRadius: 4 }] },
          options: { plugins: { legend: { display: false } }, scales: { x: { grid: { display: false } }, y: { beginAtZero: true, grid: { color: grid }, ticks: { precision: 0 } } } },
        };
      case "sla":
        return {
          type: "bar",
          data: { labels: d.labels, datasets: [{ label: "% SLA met", data: d.data, backgroundColor: d.data.map((v) => (v >= 90 ? "#15803d" : v >= 70 ? "#d97706" : "#dc2626")), borderRadius: 4 }] },
          options: {
            indexAxis: "y",
            scales: { x: { min: 0, max: 100, grid: { color: grid }, ticks: { callback: (v) => v + "%" } }, y: { grid: { display: false }, ticks: { color: ink } } },
            plugins: { legend: { display: false }, tooltip: { callbacks: { label: (c) => pct(c.raw) + " of " + d.counts[c.dataIndex] + " answered" } } },
          },
        };
      case "stacked":
        return {
          type: "bar",
          data: { labels: d.labels, datasets: d.datasets.map((s) => ({ label: s.label, data: s.data, backgroundColor: s.color, borderRadius: 2 })) },
          options: { scales: { x: { stacked: true, grid: { display: false } }, y: { stacked: true, beginAtZero: true, grid: { color: grid }, ticks: { precision: 0 } } }, plugins: { legend: { position: "bottom" } } },
        };
      case "bars":
        return {
          type: "bar",
          data: { labels: d.labels, datasets: [{ label: "complaints", data: d.data, backgroundColor: d.color, borderRadius: 4 }] },
          options: { indexAxis: "y", scales: { x: { beginAtZero: true, grid: { color: grid }, ticks: { precision: 0 } }, y: { grid: { display: false }, ticks: { color: ink, autoSkip: false } } }, plugins: { legend: { display: false } } },
        };
      case "recovery":
        return {
          type: "bar",
          data: { labels: d.labels, datasets: [{ label: "% recovered", data: d.data, backgroundColor: "#0ea5e9", borderRadius: 4 }] },
          options: {
            indexAxis: "y",
            scales: { x: { min: 0, max: 100, grid: { color: grid }, ticks: { callback: (v) => v + "%" } }, y: { grid: { display: false }, ticks: { color: ink } } },
            plugins: { legend: { display: false }, tooltip: { callbacks: { label: (c) => pct(c.raw) + " of " + d.counts[c.dataIndex] + " who posted again" } } },
          },
        };
    }
    return null;
  }

  document.querySelectorAll("canvas[data-chart]").forEach((canvas) => {
    const d = charts[canvas.dataset.chart];
    const config = d && build(canvas.dataset.chart, d);
    if (!config) return;
    new Chart(canvas, config);
    canvas.dataset.rendered = "1";
  });
})();
