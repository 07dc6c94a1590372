/**
 * `deno task bench:parts`: what each part of a traced lease costs on its
 * own, with the SDK set up as `setupTelemetry()` sets it up (in-memory span
 * ring, the pool's meter, AsyncLocalStorage context). No database: these
 * are the pieces `deno task bench` measures together, priced apart, so the
 * README can say where the remaining microseconds of a lease go.
 *
 * A lease inside `scope()` runs: 4 spans (the scope's, `get_connection`,
 * `database.query`, `return_connection`), 2 events, 2 histogram recordings,
 * one `context.with`, and with `captureAcquireSites: "always"` one
 * `new Error()`.
 */
import { context, INVALID_SPAN_CONTEXT, metrics, trace } from "@opentelemetry/api";
import { spanTime } from "../lib/util/span_time.ts";
import { setupTelemetry } from "../lib/telemetry.ts";

await setupTelemetry({ otlpEndpoint: false, log: () => {} });
const tracer = trace.getTracer("leak-lab.pool");
const attributes = { "db.client.connection.pool.name": "bench" };
const eventAttributes = { ...attributes, "lease.id": 1, "pool.active": 1, "pool.available": 4 };
const histogram = metrics.getMeter("leak-lab.pool").createHistogram("bench.wait_time", { unit: "s" });

Deno.bench(
  "a span: start + end, explicit start time (as the pool starts them)",
  { group: "parts", baseline: true },
  () => {
    tracer.startSpan("get_connection", { startTime: spanTime(performance.now()) }).end();
  },
);

Deno.bench("a span with one event (get_connection, return_connection)", { group: "parts" }, () => {
  const span = tracer.startSpan("get_connection", { startTime: spanTime(performance.now()) });
  span.addEvent("connection_acquired", eventAttributes, spanTime(performance.now()));
  span.end();
});

Deno.bench("Histogram.record with the pool's attributes", { group: "parts" }, () => {
  histogram.record(0.001, attributes);
});

Deno.bench("context.with a span and a value (what scope() adds around fn)", { group: "parts" }, () => {
  const span = trace.wrapSpanContext(INVALID_SPAN_CONTEXT);
  context.with(trace.setSpan(context.active(), span), () => 0);
});

Deno.bench("new Error() (an acquire site, captured, not formatted)", { group: "parts" }, () => {
  new Error("acquired here");
});

Deno.bench("performance.now() + spanTime()", { group: "parts" }, () => {
  spanTime(performance.now());
});
