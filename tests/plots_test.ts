import {
  assert,
  assertEquals,
  assertLess,
  assertMatch,
  assertNotMatch,
  assertStringIncludes,
  assertThrows,
} from "@std/assert";
import { FaultSchedule } from "../lib/demo/fault_schedule.ts";
import { badQueryWithLeak, goodQueryNoLeak } from "../lib/demo/query_handlers.ts";
import { TracedPool } from "../lib/pool.ts";
import { runProgression } from "../lib/demo/request_series.ts";
import {
  PLOTLY_MIME,
  type PlotlyFigure,
  poolTimelineFigure,
  poolTimelinePlot,
  progressionFigure,
  progressionPlot,
  tableBundle,
} from "../lib/notebook/plots.ts";
import { checkpointDatabaseUrl, uniquePoolName } from "../lib/workshop/checkpoint_database.ts";
import { recordingTracer } from "../lib/workshop/recording_tracer.ts";

const url = checkpointDatabaseUrl();

function newPool(acquireTimeoutMs = 200) {
  return new TracedPool({
    connectionString: url,
    name: uniquePoolName("plots-test"),
    acquireTimeoutMs,
    tracer: recordingTracer().tracer,
    log: () => {},
  });
}

function series(figure: PlotlyFigure, name: string) {
  const found = figure.data.find((s) => s.name === name);
  if (!found) throw new Error(`No series "${name}" in ${figure.data.map((s) => s.name)}`);
  return found;
}

Deno.test("progressionPlot() charts a real leak: available 5 → 0, leaked 0 → 5, failures marked", async () => {
  const pool = newPool();
  const faults = new FaultSchedule({ failEvery: 2 });
  const rows = await runProgression({ pool, requests: 12, handler: () => badQueryWithLeak(pool, faults) });
  await pool.end();

  const bundle = progressionPlot(rows, { title: "The leak" });
  const figure = bundle[PLOTLY_MIME] as PlotlyFigure;
  assertEquals(figure.data.map((s) => s.name), ["leaked", "active", "available", "query failed", "pool exhausted"]);
  assertEquals(series(figure, "available").x, [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12]);
  assertEquals(series(figure, "available").y, [5, 4, 4, 3, 3, 2, 2, 1, 1, 0, 0, 0]);
  assertEquals(series(figure, "leaked").y, [0, 1, 1, 2, 2, 3, 3, 4, 4, 5, 5, 5]);
  assertEquals(series(figure, "active").y, rows.map((r) => r.active));
  assertEquals(series(figure, "query failed").x, [2, 4, 6, 8, 10]);
  assertEquals(series(figure, "pool exhausted").x, [11, 12]);
  assertStringIncludes(series(figure, "pool exhausted").text![0], "Connection pool exhausted");
  assertEquals(figure.layout.title, { text: "The leak" });
  assertEquals(
    bundle["text/plain"],
    "12 requests: available 5 → 0, leaked 0 → 5; 5 ok, 5 query failed, 2 pool exhausted",
  );
  // Pure JSON, so the kernel can send it as is.
  assertEquals(JSON.parse(JSON.stringify(figure)), figure);
});

Deno.test("progressionPlot() of the fixed handler has flat lines and no exhausted series", async () => {
  const pool = newPool();
  const faults = new FaultSchedule({ failEvery: 2 });
  const rows = await runProgression({ pool, requests: 6, handler: () => goodQueryNoLeak(pool, faults) });
  await pool.end();

  const figure = progressionPlot(rows)[PLOTLY_MIME] as PlotlyFigure;
  assertEquals(figure.data.map((s) => s.name), ["leaked", "active", "available", "query failed"]);
  assertEquals(series(figure, "available").y, [5, 5, 5, 5, 5, 5]);
  assertEquals(series(figure, "leaked").y, [0, 0, 0, 0, 0, 0]);
  assertEquals(series(figure, "query failed").x, [2, 4, 6]);
});

Deno.test("plotBundle() falls back to a light inline SVG with one line per series, never plotly.js", async () => {
  const pool = newPool();
  const faults = new FaultSchedule({ failEvery: 2 });
  const rows = await runProgression({ pool, requests: 12, handler: () => badQueryWithLeak(pool, faults) });
  await pool.end();

  const bundle = progressionPlot(rows);
  assertEquals(Object.keys(bundle).sort(), [PLOTLY_MIME, "text/html", "text/plain"].sort());
  const html = bundle["text/html"] as string;
  assert(html.includes("<svg"), "the fallback is an inline SVG");
  assertNotMatch(html, /<script/);
  assertLess(html.length, 30_000, "the fallback stays small (plotly.js alone is ~4.8 MB)");
  assertEquals(html.match(/<polyline/g)?.length, 3, "active, available and leaked are lines");
  assertEquals(html.match(/<circle/g)?.length, 36, "12 points on each of the 3 lines");
  assertEquals(html.match(/<path d="M/g)?.length, 7, "5 failed + 2 exhausted requests marked with an x");
  for (const name of ["active", "available", "leaked", "query failed", "pool exhausted"]) {
    assertStringIncludes(html, `>${name}</text>`);
  }
  // Both axes are titled; the x axis starts at request 1, not at an empty 0.
  assertMatch(
    html,
    /<text x="14" y="[\d.]+" text-anchor="middle" transform="rotate\(-90 14 [\d.]+\)">connections<\/text>/,
  );
  assertStringIncludes(html, ">request</text>");
  const firstX = [...html.matchAll(/<circle cx="([\d.]+)"/g)].map((m) => Number(m[1]));
  assertEquals(Math.min(...firstX), 56, "the first request sits on the y axis (left margin 56)");
  // leaked is a wide pale band drawn before active, so a line equal to it stays visible on top.
  const polylines = [...html.matchAll(/<polyline fill="none" stroke="(#[0-9a-f]+)" stroke-width="([\d.]+)"([^>]*)>/g)];
  assertEquals(polylines.map((m) => [m[1], m[2]]), [["#dc2626", "9"], ["#2563eb", "2"], ["#16a34a", "2"]]);
  assertStringIncludes(polylines[0][3], 'stroke-opacity="0.35"');
});

Deno.test("poolTimelinePlot() follows pool.history() change by change, with threshold lines", async () => {
  const pool = newPool();
  const first = await pool.acquire();
  const second = await pool.acquire();
  first.release();
  second.release();
  const history = pool.history();
  await pool.end();

  const bundle = poolTimelinePlot(history, { thresholds: [{ name: "warning 70 %", value: 3.5 }] });
  const figure = bundle[PLOTLY_MIME] as PlotlyFigure;
  assertEquals(figure.data.map((s) => s.name), ["leaked", "active", "waiting", "warning 70 %"]);
  assertEquals(series(figure, "active").y, [1, 2, 1, 0]);
  assertEquals(series(figure, "waiting").y, [0, 0, 0, 0]);
  assertEquals(series(figure, "leaked").y, [0, 0, 0, 0]);
  assertEquals(series(figure, "active").text, ["acquire #1", "acquire #2", "release #1", "release #2"]);
  assertEquals(series(figure, "active").line?.shape, "hv");
  const x = series(figure, "active").x;
  assertEquals(x[0], 0);
  assert(x.every((v, i) => i === 0 || v >= x[i - 1]), `x is elapsed seconds, non-decreasing: ${x}`);
  assertEquals(series(figure, "warning 70 %").y, [3.5, 3.5]);
  assertStringIncludes(bundle["text/plain"], "4 pool changes over");
  assertStringIncludes(bundle["text/plain"], "peak 2/5 active, 0 leaked, 0 waiting");
});

Deno.test("poolTimelinePlot() falls back to SVG step lines, leaked as a band, alert levels dashed amber and red", async () => {
  const pool = newPool();
  const lease = await pool.acquire();
  lease.release();
  const history = pool.history();
  await pool.end();

  const html = poolTimelinePlot(history, {
    thresholds: [{ name: "warning 70 %", value: 3.5 }, { name: "critical 85 %", value: 4.25 }],
  })["text/html"] as string;
  const lines = [...html.matchAll(/<polyline [^>]*points="([^"]+)"/g)].map((match) => match[1].split(" "));
  assertEquals(lines.map((points) => points.length), [3, 3, 3, 2, 2], "2 samples make 3 step points; a threshold 2");
  const [start, corner, end] = lines[0].map((point) => point.split(",").map(Number));
  assertEquals(corner, [end[0], start[1]], "a step holds the old value until the next sample");
  assertEquals(html.match(/stroke-dasharray/g)?.length, 2, "the two alert levels are dashed, nothing else");
  const levels = [...html.matchAll(/<polyline fill="none" stroke="(#[0-9a-f]+)"[^>]*stroke-dasharray/g)].map((m) =>
    m[1]
  );
  assertEquals(levels, ["#d97706", "#dc2626"], "warning amber, critical red: never the same grey");
  assertStringIncludes(html, ">critical 85 %</text>");
});

Deno.test("progressionFigure() and poolTimelineFigure() reject empty input with a RangeError", () => {
  assertThrows(
    () => progressionFigure([]),
    RangeError,
    "Cannot plot a progression as 'rows' is empty: run at least one request first",
  );
  assertThrows(
    () => poolTimelineFigure([]),
    RangeError,
    "Cannot plot a pool timeline as 'history' is empty: acquire a connection first",
  );
});

Deno.test("tableBundle() aligns a text table and escapes the HTML one", async () => {
  const pool = newPool();
  const lease = await pool.acquire();
  const rows = [{ lease: lease.id, pid: lease.pid, note: "<b>held</b>" }, { lease: 99, note: "x" }];
  lease.release();
  await pool.end();

  const bundle = tableBundle(rows, { caption: "Leases" });
  const lines = bundle["text/plain"].split("\n");
  assertEquals(lines[0], "Leases");
  const pidWidth = Math.max("pid".length, String(rows[0].pid).length);
  assertEquals(lines[1], `lease  ${"pid".padEnd(pidWidth)}  note`);
  assertEquals(lines[2], `${String(rows[0].lease).padEnd(5)}  ${String(rows[0].pid).padEnd(pidWidth)}  <b>held</b>`);
  assertEquals(lines[3], `99     ${" ".repeat(pidWidth)}  x`);
  const html = bundle["text/html"] as string;
  assertStringIncludes(html, "&lt;b&gt;held&lt;/b&gt;");
  assertNotMatch(html, /<b>held/);
  assertEquals(html.match(/<tr>/g)?.length, 3);
  assertEquals(tableBundle([], { columns: ["a"] })["text/plain"], "(no rows)");
  assertEquals(tableBundle(rows, { columns: ["note"] })["text/plain"], "note\n<b>held</b>\nx");
});
