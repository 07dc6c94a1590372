/**
 * Waterfalls of a real leaking run, as notebook 2's twelve-request cell draws
 * them: one row per healthy request, the leaking and failing requests open
 * and highlighted, children indented under their parent, the same rules in
 * text and HTML.
 */
import { assert, assertEquals, assertLess, assertMatch, assertStringIncludes } from "@std/assert";
import { context, ROOT_CONTEXT, trace } from "@opentelemetry/api";
import { FaultSchedule } from "../lib/demo/fault_schedule.ts";
import { badQueryWithLeak } from "../lib/demo/query_handlers.ts";
import { runProgression } from "../lib/demo/request_series.ts";
import { POOL_TRACE_HINTS } from "../lib/pool.ts";
import { viewTrace, waterfallHtml, waterfallText } from "../lib/telemetry.ts";
import { checkpointPool } from "../lib/workshop/checkpoint_database.ts";
import { recordingTracer } from "../lib/workshop/recording_tracer.ts";

async function twelveLeakingRequests() {
  const { tracer, exporter } = recordingTracer();
  const pool = checkpointPool("waterfall", { tracer, max: 5 });
  const faults = new FaultSchedule({ failEvery: 2 });
  const cell = tracer.startSpan("twelve requests", { root: true });
  await context.with(
    trace.setSpan(ROOT_CONTEXT, cell),
    () =>
      runProgression({
        pool,
        tracer,
        requests: 12,
        spanName: "request",
        handler: () => badQueryWithLeak(pool, faults),
      }),
  );
  cell.end();
  await pool.end();
  return viewTrace(exporter.getFinishedSpans().filter((s) => s.spanContext().traceId === cell.spanContext().traceId));
}

Deno.test("waterfallText() folds each healthy request into one line and opens the leaking and failing ones", async () => {
  const view = await twelveLeakingRequests();
  assert(view.length > 40, `a big trace: ${view.length} spans`);
  const text = waterfallText(view, POOL_TRACE_HINTS);
  const lines = text.split("\n");
  assertMatch(lines[0], /^twelve requests \(\d+\.\d\d ms\)$/);
  const requestLines = lines.filter((line) => /^[├└]─ request #\d+/.test(line));
  assertEquals(requestLines.length, 12, "one row per request, at the first level");
  for (const n of [1, 3, 5, 7, 9]) {
    assertMatch(requestLines[n - 1], new RegExp(`^├─ request #${n} \\(\\d+\\.\\d\\d ms\\)  \\(\\+4 spans\\)$`));
  }
  for (const n of [2, 4, 6, 8, 10]) {
    assertMatch(requestLines[n - 1], new RegExp(`request #${n} .*✖ canceling statement due to statement timeout$`));
  }
  assertMatch(requestLines[10], /request #11 .*✖ Connection pool exhausted/);
  // Each leak is visible at a glance: its handler row is tagged, with the lease and where it was acquired.
  const leaks = lines.filter((line) => line.includes("bad_query_with_leak") && line.endsWith("⚑ LEAK"));
  assertEquals(leaks.length, 5);
  const leakEvents = lines.filter((line) => line.includes("⚑ connection_leaked"));
  assertEquals(leakEvents.length, 5);
  for (const line of leakEvents) assertMatch(line, /lease\.acquire_site=lib\/demo\/query_handlers\.ts:\d+:\d+/);
  // Children sit under their parent: the leaking handler's query is indented below it.
  const handler = lines.findIndex((line) => line.includes("bad_query_with_leak") && line.endsWith("⚑ LEAK"));
  const query = lines.findIndex((line, i) => i > handler && line.includes("database.query"));
  assertLess(lines[handler].indexOf("bad_query_with_leak"), lines[query].indexOf("database.query"));
  assertLess(lines.length, 60, "a few screens, not one line per span and event");
});

Deno.test("waterfallHtml() nests spans in <details>, open only where something leaked or failed", async () => {
  const view = await twelveLeakingRequests();
  const html = waterfallHtml(view, { ...POOL_TRACE_HINTS, title: "Trace of cell" });
  assertEquals(html.match(/<details[^>]* data-span=/g)?.length, view.length, "every span is a row");
  const open = [...html.matchAll(/<details open data-span="([0-9a-f]{16})"/g)].map((m) => m[1]);
  const openNames = open.map((id) => view.find((span) => span.spanId === id)!.name);
  assertEquals(openNames.filter((name) => name === "request").length, 7, "the 5 leaking and 2 exhausted requests");
  assertEquals(openNames.filter((name) => name === "bad_query_with_leak").length, 7, "their handlers too");
  assert(!openNames.includes("return_connection"), "healthy rows stay folded");
  assertEquals(html.match(/⚑ leak<\/b>/g)?.length, 5, "each leaking handler is marked");
  assertEquals(html.match(/background:#fee2e2/g)?.length, 5, "and highlighted");
  assertStringIncludes(html, "lib/demo/query_handlers.ts:");
  assert(!html.includes("code.stacktrace"), "stacks stay out of the rows");
  for (const span of view) assertStringIncludes(html, `data-span="${span.spanId}"`);
});

Deno.test("waterfallText() shows a small trace fully open, events included", () => {
  const span = (name: string, spanId: string, depth: number, parentSpanId?: string) => ({
    traceId: "a".repeat(32),
    spanId,
    parentSpanId,
    name,
    depth,
    offsetMs: depth,
    durationMs: 1,
    status: "ok" as const,
    attributes: {},
    events: [{ name: `${name}_event`, offsetMs: depth, attributes: {} }],
  });
  const text = waterfallText([
    span("root", "1".repeat(16), 0),
    span("first", "2".repeat(16), 1, "1".repeat(16)),
    span("second", "3".repeat(16), 1, "1".repeat(16)),
  ]);
  assertEquals(
    text,
    [
      "root (1.00 ms)",
      "│  ⚑ root_event",
      "├─ first (1.00 ms)",
      "│     ⚑ first_event",
      "└─ second (1.00 ms)",
      "      ⚑ second_event",
    ].join("\n"),
  );
});
