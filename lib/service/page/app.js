// The demo page: buttons that call the service, live pool gauges, a plotly
// timeline, the alerts Prometheus would fire now, and a request log whose rows
// open the request's trace. Plain browser JavaScript served as is: no build step.
import { evaluateAlerts, parseScrape, poolReading } from "./alerts.js";
import { firstSentence, logRow } from "./request_log.js";

const state = { info: undefined, busy: false, requests: 0, counts: { ok: 0, failed: 0, rejected: 0 }, lastError: "" };
const $ = (selector) => document.querySelector(selector);

async function call(method, path) {
  // POSTs change the service's state: it takes them as JSON only, a type no other site can send without asking first.
  const init = method === "POST" ? { method, headers: { "content-type": "application/json" }, body: "{}" } : { method };
  const response = await fetch(path, init);
  const body = await response.json().catch(() => ({ error: `HTTP ${response.status} with a body that is not JSON` }));
  return { status: response.status, body };
}

/**
 * "ok", "warn" or "crit" from the share of connections in use, at the
 * service's alert thresholds (GET /api/info: lib/pool/alert_thresholds.ts).
 */
function level(stats) {
  const { warningPercent, criticalPercent } = state.info.alerts.utilisation;
  const percent = stats.max > 0 ? (stats.active / stats.max) * 100 : 0;
  return percent >= criticalPercent ? "crit" : percent >= warningPercent ? "warn" : "ok";
}

function showAbout(info) {
  $("#about-database").textContent = info.database;
  $("#about-faults").textContent = info.faults;
  const { warningPercent, criticalPercent } = info.alerts.utilisation;
  $("#alert-levels").textContent =
    `Colours follow the alert thresholds: warning at ${warningPercent} % of connections in use, critical at ${criticalPercent} %.`;
  $("#about-pool").textContent =
    `"${info.pool.name}", max ${info.pool.max} connections, a request waits at most ${info.pool.acquireTimeoutMs} ms`;
  const jaeger = $("#about-jaeger");
  jaeger.replaceChildren();
  const badge = document.createElement("span");
  badge.className = `badge ${info.jaeger.linked ? "on" : "off"}`;
  badge.textContent = info.jaeger.linked ? "exporting" : info.jaeger.exporting ? "no UI" : "not found";
  // A link only to a UI that answered: anything else is shown as text, never as a link that opens nothing.
  const ui = document.createElement(info.jaeger.linked ? "a" : "code");
  if (info.jaeger.linked) {
    ui.href = info.jaeger.ui;
    ui.target = "_blank";
  }
  ui.textContent = info.jaeger.ui;
  jaeger.append(
    badge,
    info.jaeger.linked
      ? ` traces go to ${info.jaeger.endpoint}; UI at `
      : info.jaeger.exporting
      ? ` traces go to ${info.jaeger.endpoint}, but no Jaeger UI answered at `
      : " traces stay in the service's memory (click a request below); start Jaeger and its UI answers at ",
    ui,
    info.jaeger.exporting && !info.jaeger.linked ? " (set JAEGER_UI_URL); click a request below for its trace" : "",
  );
}

function showPool(stats) {
  const gauges = $("#gauges");
  gauges.dataset.level = level(stats);
  for (const key of ["total", "active", "available", "leaked", "waiting"]) {
    const gauge = $(`#gauge-${key}`);
    gauge.querySelector(".value").textContent = String(stats[key]);
    const meter = gauge.querySelector("meter");
    meter.max = Math.max(stats.max, stats[key]);
    meter.value = stats[key];
    gauge.classList.toggle("nonzero", stats[key] > 0);
  }
  const used = stats.max > 0 ? Math.round((stats.active / stats.max) * 100) : 0;
  $("#utilisation").textContent = `${used} % in use (${stats.active} of ${stats.max})`;
  showBanner(stats);
}

function showBanner(stats) {
  const banner = $("#banner");
  if (stats.available === 0 && stats.leaked > 0) {
    banner.className = "exhausted";
    banner.textContent = `Connection pool exhausted: ${stats.active} of ${stats.max} connections are out, ` +
      `${stats.leaked} of them leaked. Every request now waits ${state.info?.pool.acquireTimeoutMs ?? "its"} ms ` +
      `for a connection and fails with 503. Click Reset Pool to reclaim them.` +
      (state.lastError
        ? `\n\nLast error: ${firstSentence(state.lastError)[0]} (the whole message: its row below)`
        : "");
    banner.hidden = false;
  } else if (state.lastError) {
    banner.className = "exhausted";
    banner.textContent = state.lastError;
    banner.hidden = false;
  } else {
    banner.hidden = true;
    banner.className = "";
    banner.textContent = "";
  }
}

// Scrapes of GET /metrics (the series Prometheus reads), oldest first, for the windowed alerts.
const scrapes = [];

async function refreshAlerts() {
  const { prometheus, alerts: thresholds, pool } = state.info;
  const response = await fetch(prometheus.metrics);
  if (!response.ok) return;
  const reading = poolReading(parseScrape(await response.text()), pool.name, thresholds.acquireWaitSeconds);
  const at = Date.now();
  scrapes.push({ at, reading });
  while (scrapes.length > 1 && scrapes[1].at < at - prometheus.windowMs) scrapes.shift();
  showAlerts(evaluateAlerts(prometheus.rules, thresholds, scrapes, prometheus.windowMs));
}

function showAlerts(results) {
  const body = $("#alerts tbody");
  body.replaceChildren();
  for (const { alert, severity, firing, detail } of results) {
    const row = document.createElement("tr");
    row.className = firing ? `firing ${severity}` : "ok";
    row.dataset.alert = alert;
    const badge = document.createElement("span");
    badge.className = `severity ${severity}`;
    badge.textContent = severity;
    const cells = [badge, alert, firing ? "FIRING" : "ok", detail];
    for (const value of cells) {
      const cell = document.createElement("td");
      cell.append(value);
      row.append(cell);
    }
    body.append(row);
  }
  const firing = results.filter((r) => r.firing);
  $("#alerts-summary").textContent = firing.length === 0
    ? "none would fire now"
    : `${firing.length} would fire now: ${firing.map((r) => r.alert).join(", ")}`;
  const leakSearch = $("#alerts-leak-search");
  const leaking = firing.some((r) => /Leaked|HeldTooLong/.test(r.alert));
  leakSearch.hidden = !leaking;
  if (leaking && state.info.prometheus.leakSearch) {
    const link = document.createElement("a");
    link.href = state.info.prometheus.leakSearch;
    link.target = "_blank";
    link.textContent = "the leaking requests in Jaeger";
    leakSearch.replaceChildren("Every alert's description links to the trace search for leaks: ", link, ".");
  } else if (leaking) {
    // No Jaeger, no search link: say where the leaks are instead.
    leakSearch.textContent = "The alerts link to a Jaeger search for the tag leaklab.leak=true; no Jaeger was found " +
      "when the service started, so click the leaking requests below for their traces.";
  }
}

function showAlertsHint(info) {
  const { for: holdFor, window } = info.prometheus;
  const link = document.createElement("a");
  link.href = info.prometheus.metrics;
  link.target = "_blank";
  link.textContent = "GET /metrics";
  $("#alerts-hint").replaceChildren(
    "The rules of prometheus/alerts.yml, applied to this page's reads of ",
    link,
    ` (what Prometheus scrapes) at the same thresholds. Prometheus fires one once its condition has held for ` +
      `${holdFor}; rates and timeouts look at the last ${window}.`,
  );
}

const timeline = { x: [0], active: [0], available: [0], leaked: [0], resets: [] };

function plot(stats, request) {
  timeline.x.push(request);
  timeline.active.push(stats.active);
  timeline.available.push(stats.available);
  timeline.leaked.push(stats.leaked);
  drawTimeline();
}

function drawTimeline() {
  if (!globalThis.Plotly) {
    $("#timeline").textContent = "plotly.js did not load: the timeline is unavailable.";
    return;
  }
  // Fresh arrays: Plotly.react redraws only data it sees as new.
  const line = (name, y, color, style) => ({
    name,
    x: [...timeline.x],
    y: [...y],
    mode: "lines+markers",
    line: { shape: "hv", color, ...style },
  });
  globalThis.Plotly.react("timeline", [
    // leaked first, as a wide pale band, and active on top of it: while every active connection is a leaked one,
    // both show (a line drawn over an equal one hides it).
    { ...line("leaked", timeline.leaked, "#dc2626", { width: 9 }), opacity: 0.35, mode: "lines" },
    line("active", timeline.active, "#d97706", { width: 2 }),
    line("available", timeline.available, "#15803d", { width: 2 }),
  ], {
    margin: { t: 10, r: 10, b: 40, l: 40 },
    xaxis: { title: { text: "request" }, dtick: 1, rangemode: "tozero" },
    yaxis: { title: { text: "connections" }, rangemode: "tozero", dtick: 1 },
    shapes: timeline.resets.map((x) => ({
      type: "line",
      x0: x,
      x1: x,
      yref: "paper",
      y0: 0,
      y1: 1,
      line: { dash: "dot", color: "#6b7280" },
    })),
    legend: { orientation: "h" },
  }, { displayModeBar: false, responsive: true });
}

function showCounts() {
  const { ok, failed, rejected } = state.counts;
  $("#counts").textContent = `${state.requests} sent: ${ok} ok, ${failed} failed (500), ${rejected} rejected (503)`;
}

async function hit(endpoint) {
  const started = performance.now();
  const { status, body } = await call("POST", `/api/${endpoint}`);
  const ms = performance.now() - started;
  state.requests++;
  if (status === 200) state.counts.ok++;
  else if (status === 503) state.counts.rejected++;
  else state.counts.failed++;
  state.lastError = status === 503 ? body.error : "";
  const pool = body.pool ?? (await call("GET", "/api/pool")).body;
  logRow(state, { label: `POST /api/${endpoint}`, status, outcome: body.outcome ?? "error", ms, pool, ...body });
  showPool(pool);
  plot(pool, state.requests);
  showCounts();
  await refreshAlerts();
}

async function busy(work) {
  if (state.busy) return;
  state.busy = true;
  for (const button of document.querySelectorAll("button")) button.disabled = true;
  try {
    await work();
  } catch (error) {
    state.lastError = `The page could not reach the service: ${error.message}`;
    showBanner({ available: 1, leaked: 0 });
  } finally {
    state.busy = false;
    for (const button of document.querySelectorAll("button")) button.disabled = false;
  }
}

async function reset() {
  const { body } = await call("POST", "/api/reset");
  state.lastError = "";
  timeline.resets.push(state.requests + 0.5);
  showPool(body.pool);
  plot(body.pool, state.requests + 0.5);
  await refreshAlerts();
  const banner = $("#banner");
  banner.className = "healthy";
  banner.textContent = `Pool reset: ${body.reclaimed} leaked connection(s) reclaimed; failure schedule restarted.`;
  banner.hidden = false;
}

for (const button of document.querySelectorAll("button[data-endpoint]")) {
  button.addEventListener("click", () =>
    busy(async () => {
      for (let i = 0; i < Number(button.dataset.count); i++) await hit(button.dataset.endpoint);
    }));
}
$("#reset").addEventListener("click", () => busy(reset));

// Between clicks, keep the gauges live (leak detection and other clients change them too). Every
// poll is a traced request too: every 5 s keeps them from crowding the service's in-memory traces.
setInterval(async () => {
  if (state.busy || document.hidden) return;
  const { status, body } = await call("GET", "/api/pool").catch(() => ({ status: 0 }));
  if (status === 200) showPool(body);
  await refreshAlerts().catch(() => {});
}, 5000);

state.info = (await call("GET", "/api/info")).body;
showAbout(state.info);
const initial = (await call("GET", "/api/pool")).body;
timeline.active[0] = initial.active;
timeline.available[0] = initial.available;
timeline.leaked[0] = initial.leaked;
showPool(initial);
showCounts();
showAlertsHint(state.info);
await refreshAlerts();
// plotly.js is a deferred classic script: it has run before this module does.
drawTimeline();
document.body.dataset.ready = "true";
