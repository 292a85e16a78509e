// perpbot dashboard: live updates without reloading. Polls /api/live every 2 s, updates the
// figures marked data-live="...", each strategy's state and last run, extends the PnL chart,
// and offers a reload when new events arrived. No build step: plain browser JavaScript.
"use strict";

const POLL_MS = 2000;

function money(value) {
  const n = Number(value);
  const text = Math.abs(n).toLocaleString("en-US", { minimumFractionDigits: 2, maximumFractionDigits: 2 });
  return (n < 0 && text !== "0.00" ? "-" : "") + text;
}

function pick(data, path) {
  return path.split(".").reduce((node, key) => (node == null ? undefined : node[key]), data);
}

function clockText(iso) {
  const d = new Date(iso);
  const pad = (v) => String(v).padStart(2, "0");
  return `${pad(d.getUTCMonth() + 1)}-${pad(d.getUTCDate())} ${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())}`;
}

const LINES = [
  ["net", "net PnL", (p) => Number(p.net)],
  ["funding", "funding", (p) => Number(p.funding)],
  ["fees", "fees (cost)", (p) => -Number(p.fees)],
  ["price", "price PnL", (p) => Number(p.price)],
];

function drawChart(points) {
  const chart = document.getElementById("pnl-chart");
  if (!chart || typeof Plotly === "undefined") return null;
  const traces = LINES.map(([, name, value]) => ({
    x: points.map((p) => p.at),
    y: points.map(value),
    name,
    mode: "lines",
    type: "scatter",
  }));
  Plotly.newPlot(chart, traces, {
    margin: { t: 10, r: 10, b: 40, l: 60 },
    height: 320,
    yaxis: { title: { text: "USD" }, zeroline: true },
    xaxis: { type: "date" },
    legend: { orientation: "h" },
  }, { displaylogo: false, responsive: true });
  return chart;
}

function extendChart(chart, totals) {
  if (!chart) return;
  const x = chart.data[0].x;
  if (x.length && x[x.length - 1] >= totals.at) return;
  Plotly.extendTraces(
    chart,
    { x: LINES.map(() => [totals.at]), y: LINES.map(([, , value]) => [value(totals)]) },
    LINES.map((_, k) => k),
  );
}

function applyLive(data, chart) {
  document.querySelectorAll("[data-live]").forEach((el) => {
    const key = el.dataset.live;
    const value = pick(data, key);
    if (value === undefined) return;
    el.textContent = key === "now" ? clockText(value) : key.startsWith("totals.") ? money(value) : value;
  });
  document.querySelectorAll("[data-live-strategy]").forEach((el) => {
    const s = data.strategies[el.dataset.liveStrategy];
    if (!s) return;
    if (el.dataset.field === "state") {
      el.textContent = s.state;
      el.className = `state ${s.state}`;
    } else if (el.dataset.field === "last_run" && s.last_run) {
      const r = s.last_run;
      el.textContent = `${r.phase} ${r.status} at ${clockText(r.at)}` + (r.reason ? ` — ${r.reason}` : "");
    }
  });
  const status = document.getElementById("live-status");
  const banner = document.getElementById("stale-banner");
  if (status && banner && Number(data.last_event_id || 0) > Number(status.dataset.lastEvent)) {
    banner.hidden = false;
  }
  extendChart(chart, data.totals);
}

async function start() {
  let chart = null;
  if (document.getElementById("pnl-chart")) {
    const response = await fetch("/api/pnl", { credentials: "same-origin", cache: "no-store" });
    if (response.ok) chart = drawChart(await response.json());
  }
  const poll = async () => {
    try {
      const response = await fetch("/api/live", { credentials: "same-origin", cache: "no-store" });
      if (response.status === 401) {
        window.location.assign("/login?next=" + encodeURIComponent(window.location.pathname));
        return;
      }
      if (response.ok) applyLive(await response.json(), chart);
    } finally {
      window.setTimeout(poll, POLL_MS);
    }
  };
  window.setTimeout(poll, POLL_MS);
}

document.addEventListener("DOMContentLoaded", start);
