import { assertEquals, assertStringIncludes } from "@std/assert";
import { BasicTracerProvider } from "@opentelemetry/sdk-trace-base";
import { context, SpanStatusCode, trace } from "@opentelemetry/api";
import { RecentSpans } from "../lib/telemetry/recent_spans.ts";
import { Ring } from "../lib/util/ring.ts";
import { summarizeTraces, viewTrace } from "../lib/telemetry/trace_view.ts";
import { waterfallHtml, waterfallText } from "../lib/telemetry/waterfall.ts";
import { escapeHtml } from "../lib/util/escape_html.ts";
import { ensureContextManager } from "../lib/telemetry.ts";
import { assertThrows } from "@std/assert";

function recorder(capacity = 100) {
  ensureContextManager();
  const recent = new RecentSpans(capacity);
  const tracer = new BasicTracerProvider({ spanProcessors: [recent] }).getTracer("test");
  return { recent, tracer };
}

Deno.test("Ring keeps the newest items up to its capacity", () => {
  const ring = new Ring<number>(3);
  for (let i = 1; i <= 5; i++) ring.push(i);
  assertEquals(ring.toArray(), [3, 4, 5]);
  assertEquals(ring.size, 3);
  ring.clear();
  assertEquals(ring.toArray(), []);
  assertThrows(() => new Ring(0), RangeError, "'capacity' must be a positive integer: current value is 0");
});

Deno.test("RecentSpans keeps only the most recent ended spans and finds a trace", () => {
  const { recent, tracer } = recorder(2);
  const spans = ["a", "b", "c"].map((name) => tracer.startSpan(name));
  spans.forEach((span) => span.end());
  assertEquals(recent.spans().map((s) => s.name), ["b", "c"]);
  assertEquals(recent.trace(spans[2].spanContext().traceId).map((s) => s.name), ["c"]);
});

Deno.test("viewTrace() lays spans out parent first with depths, offsets and events", () => {
  const { recent, tracer } = recorder();
  const root = tracer.startSpan("POST /api/bad");
  context.with(trace.setSpan(context.active(), root), () => {
    const child = tracer.startSpan("bad_query_with_leak");
    context.with(trace.setSpan(context.active(), child), () => {
      const query = tracer.startSpan("database.query");
      query.addEvent("query_error", { "exception.message": "boom" });
      query.setStatus({ code: SpanStatusCode.ERROR, message: "boom" });
      query.end();
    });
    child.addEvent("connection_leaked", { leaked_connections: 1 });
    child.end();
  });
  root.end();
  const view = viewTrace(recent.trace(root.spanContext().traceId));
  assertEquals(view.map((s) => [s.name, s.depth]), [["POST /api/bad", 0], ["bad_query_with_leak", 1], [
    "database.query",
    2,
  ]]);
  assertEquals(view[0].offsetMs, 0);
  assertEquals(view[2].status, "error");
  assertEquals(view[2].statusMessage, "boom");
  assertEquals(view[1].events[0].name, "connection_leaked");
  assertEquals(view[1].events[0].attributes, { leaked_connections: 1 });
  assertEquals(view[2].parentSpanId, view[1].spanId);

  const [summary] = summarizeTraces(recent.spans());
  assertEquals(summary.rootName, "POST /api/bad");
  assertEquals(summary.status, "error", "a trace with an error span is an error trace");
  assertEquals(summary.spanCount, 3);

  const hints = {
    leakAttribute: "leaklab.leak",
    eventKinds: { connection_leaked: "leak", query_error: "error" },
  } as const;
  const html = waterfallHtml(view, { ...hints, link: "http://localhost:16686/trace/x" });
  assertStringIncludes(html, "connection_leaked");
  assertStringIncludes(html, 'href="http://localhost:16686/trace/x"');
  assertEquals(
    waterfallText(view, hints),
    [
      `POST /api/bad (${view[0].durationMs.toFixed(2)} ms)`,
      `└─ bad_query_with_leak (${view[1].durationMs.toFixed(2)} ms)  ⚑ LEAK`,
      `   │  ⚑ connection_leaked leaked_connections=1`,
      `   └─ database.query (${view[2].durationMs.toFixed(2)} ms)  ✖ boom`,
      `         ⚑ query_error exception.message=boom`,
    ].join("\n"),
  );
});

Deno.test("summarizeTraces() lists traces newest first, at most `limit`", async () => {
  const { recent, tracer } = recorder();
  tracer.startSpan("first").end();
  await new Promise((resolve) => setTimeout(resolve, 5));
  tracer.startSpan("second").end();
  assertEquals(summarizeTraces(recent.spans()).map((t) => t.rootName), ["second", "first"]);
  assertEquals(summarizeTraces(recent.spans(), 1).map((t) => t.rootName), ["second"]);
});

Deno.test("escapeHtml() escapes markup in span names and attributes", () => {
  assertEquals(escapeHtml(`<a href="x">'&'</a>`), "&lt;a href=&quot;x&quot;&gt;&#39;&amp;&#39;&lt;/a&gt;");
});
