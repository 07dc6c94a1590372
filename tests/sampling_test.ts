/**
 * TracedPool under head sampling (issue #17): a user's own SDK with a ratio
 * sampler keeps every sampled request's trace whole, unsampled requests make
 * no recording spans, and no sampler hides a leak or an exhaustion.
 */
import { assert, assertEquals, assertGreater, assertLess, assertStringIncludes } from "@std/assert";
import { context, defaultTextMapSetter, ROOT_CONTEXT, trace, TraceFlags, type Tracer } from "@opentelemetry/api";
import { W3CTraceContextPropagator } from "@opentelemetry/core";
import {
  AlwaysOffSampler,
  BasicTracerProvider,
  ParentBasedSampler,
  type ReadableSpan,
  type Sampler,
  SimpleSpanProcessor,
  TraceIdRatioBasedSampler,
} from "@opentelemetry/sdk-trace-base";
import { keepLeaks, PoolExhaustedError, TracedPool } from "../lib/pool.ts";
import { ensureContextManager } from "../lib/telemetry.ts";
import { checkpointDatabaseUrl, uniquePoolName } from "../lib/workshop/checkpoint_database.ts";
import { SyncInMemorySpanExporter } from "../lib/workshop/recording_tracer.ts";

const url = checkpointDatabaseUrl();
const POOL_SPAN_NAMES = ["get_connection", "database.query", "return_connection"];
const ZERO_TRACE = "0".repeat(32);

/** A user's own SDK: a provider with `sampler`, its spans in memory as each one ends. */
function userSdk(sampler: Sampler) {
  ensureContextManager();
  const exporter = new SyncInMemorySpanExporter();
  const provider = new BasicTracerProvider({ sampler, spanProcessors: [new SimpleSpanProcessor(exporter)] });
  return { tracer: provider.getTracer("app"), spans: () => exporter.getFinishedSpans(), provider };
}

function newPool(tracer: Tracer, options: Partial<ConstructorParameters<typeof TracedPool>[0]> = {}) {
  const logs: string[] = [];
  const pool = new TracedPool({
    connectionString: url,
    name: uniquePoolName("sampling"),
    tracer,
    acquireTimeoutMs: 300,
    log: (message) => logs.push(message),
    ...options,
  });
  return { pool, logs };
}

const attribute = (span: ReadableSpan, key: string) => span.attributes[key];

Deno.test("under ParentBased(TraceIdRatioBased(0.5)) every sampled request keeps the pool's spans and app spans in its trace", async () => {
  const sdk = userSdk(new ParentBasedSampler({ root: new TraceIdRatioBasedSampler(0.5) }));
  const { pool } = newPool(sdk.tracer);
  const propagator = new W3CTraceContextPropagator();
  type Seen = { traceId: string; sampled: boolean; appTrace: string; traceparent: string };
  const seen: Seen[] = [];
  const request = () =>
    sdk.tracer.startActiveSpan("request", async (span) => {
      const inner = await pool.scope("handler", async () => {
        await using conn = await pool.acquire();
        await conn.query("SELECT 1");
        const app = sdk.tracer.startSpan("app.work"); // the user's own span, inside the scope
        app.end();
        const carrier: Record<string, string> = {};
        propagator.inject(context.active(), carrier, defaultTextMapSetter); // an outgoing call's traceparent
        return { appTrace: app.spanContext().traceId, traceparent: carrier.traceparent };
      });
      const { traceId, traceFlags } = span.spanContext();
      span.end();
      seen.push({ traceId, sampled: (traceFlags & TraceFlags.SAMPLED) === TraceFlags.SAMPLED, ...inner });
    });
  for (let batch = 0; batch < 25; batch++) await Promise.all(Array.from({ length: 8 }, request)); // 200, interleaved
  await pool.end();

  const sampled = seen.filter((r) => r.sampled);
  assertGreater(sampled.length, 60, "about half of 200 requests are sampled");
  assertLess(sampled.length, 140, "about half of 200 requests are sampled");
  const exported = sdk.spans();
  const byTrace = Map.groupBy(exported, (span) => span.spanContext().traceId);
  assertEquals(new Set(byTrace.keys()), new Set(sampled.map((r) => r.traceId)), "exactly the sampled traces");
  for (const r of seen) {
    assertEquals(r.appTrace, r.traceId, "an app span started inside scope() stays in the request's trace");
    assertStringIncludes(r.traceparent, `00-${r.traceId}-`, "an outgoing traceparent carries the request's trace");
    assert(r.traceparent.endsWith(r.sampled ? "-01" : "-00"), `traceparent ${r.traceparent} says sampled=${r.sampled}`);
  }
  for (const r of sampled) {
    const spans = byTrace.get(r.traceId)!;
    assertEquals(
      spans.map((s) => s.name).sort(),
      ["app.work", "handler", "request", ...POOL_SPAN_NAMES].sort(),
      `trace ${r.traceId} holds the scope, the pool's spans and the app's`,
    );
    const ids = new Set(spans.map((s) => s.spanContext().spanId));
    for (const span of spans.filter((s) => s.name !== "request")) {
      const parent = span.parentSpanContext?.spanId;
      assert(parent && ids.has(parent), `${span.name} in trace ${r.traceId} has its parent in the trace, not a root`);
    }
  }
  await sdk.provider.shutdown();
});

Deno.test("a leak in an unsampled request is exported in the request's own trace, with the lease and scope", async () => {
  const sdk = userSdk(new ParentBasedSampler({ root: new AlwaysOffSampler() })); // nothing is ever sampled
  const { pool, logs } = newPool(sdk.tracer, { captureAcquireSites: "always" });
  let requestTrace = "";
  let leaked: { pid: number; id: number } | undefined;
  await sdk.tracer.startActiveSpan("request", async (span) => {
    requestTrace = span.spanContext().traceId;
    await pool.scope("bad_query_with_leak", async () => {
      const conn = await pool.acquire(); // never released: the leak
      leaked = { pid: conn.pid, id: conn.id };
      await conn.query("SELECT 1");
    });
    span.end();
  });
  assert(
    requestTrace !== ZERO_TRACE &&
      trace.isSpanContextValid({ traceId: requestTrace, spanId: "1".repeat(16), traceFlags: 0 }),
  );
  const exported = sdk.spans();
  assertEquals(exported.map((s) => s.name), ["connection_leak_detected"], "only the leak is recorded");
  const leak = exported[0];
  assertEquals(leak.spanContext().traceId, requestTrace, "in the request's own trace id");
  assertEquals(attribute(leak, "leaklab.leak"), true);
  assertEquals(attribute(leak, "leaklab.scope"), "bad_query_with_leak");
  assertEquals(attribute(leak, "lease.id"), leaked!.id);
  assertEquals(attribute(leak, "lease.pid"), leaked!.pid);
  assertStringIncludes(String(attribute(leak, "lease.acquire_site")), "tests/sampling_test.ts:");
  assertEquals(leak.events.map((e) => e.name), ["connection_leaked"]);
  assertEquals(pool.leaks()[0].traceId, requestTrace, "pool.leaks() names the same trace");
  assertEquals(logs.filter((line) => line.includes("keepLeaks")), [], "nothing was dropped");
  pool.reset();
  await pool.end();
  await sdk.provider.shutdown();
});

Deno.test("keepLeaks() keeps leaks and exhaustions under a sampler that drops everything else", async () => {
  const sdk = userSdk(keepLeaks(new TraceIdRatioBasedSampler(0))); // a bare ratio: no parent-based shortcut
  const { pool } = newPool(sdk.tracer, { max: 1, acquireTimeoutMs: 50, leakThresholdMs: 100 });
  const held = await pool.acquire(); // outside any scope: held past the threshold
  const traces = await sdk.tracer.startActiveSpan("request", async (span) => {
    const error = await pool.scope("waits", () => pool.acquire()).catch((e) => e);
    assert(error instanceof PoolExhaustedError, String(error));
    span.end();
    return span.spanContext().traceId;
  });
  await new Promise((resolve) => setTimeout(resolve, 250)); // past leakThresholdMs: the watch reports `held`
  const exported = sdk.spans();
  const exhaustion = exported.find((s) => s.name === "get_connection")!;
  assertEquals(exhaustion.spanContext().traceId, traces);
  assertEquals([attribute(exhaustion, "leaklab.exhausted"), attribute(exhaustion, "error.type")], [
    true,
    "PoolExhaustedError",
  ]);
  const overThreshold = exported.find((s) => s.name === "connection_leak_detected")!;
  assertEquals(attribute(overThreshold, "leaklab.leak"), true);
  assertEquals(attribute(overThreshold, "lease.id"), held.id);
  assertEquals(exported.length, 2, "nothing else: the sampler dropped every other span");
  held.release();
  await pool.end();
  await sdk.provider.shutdown();
});

Deno.test("a sampler that drops a leak (not wrapped in keepLeaks) is named once, with the fix", async () => {
  const sdk = userSdk(new AlwaysOffSampler());
  const { pool, logs } = newPool(sdk.tracer);
  for (let i = 0; i < 3; i++) {
    await sdk.tracer.startActiveSpan("request", async (span) => {
      await pool.scope("leaks", () => pool.acquire());
      span.end();
    });
  }
  assertEquals(sdk.spans(), []);
  const said = logs.filter((line) => line.includes("keepLeaks()"));
  assertEquals(said.length, 1, "said once, not per leak");
  assertStringIncludes(said[0], "the tracer's sampler dropped its span");
  assertEquals(pool.leaks().every((leak) => leak.traceId && leak.traceId !== ZERO_TRACE), true);
  pool.reset();
  await pool.end();
  await sdk.provider.shutdown();
});

Deno.test("with no SDK installed, scope() keeps the caller's context and reports leaks without a trace id", async () => {
  const { pool, logs } = newPool(trace.getTracer("none")); // the API's no-op tracer
  const key = Symbol.for("leak-lab.test.key");
  const outer = ROOT_CONTEXT.setValue(key, "caller");
  const seen = await context.with(outer, () =>
    pool.scope("no-sdk", async (span) => {
      assertEquals(span.isRecording(), false);
      const leaked = await pool.acquire(); // never released
      return { value: context.active().getValue(key), id: leaked.id };
    }));
  assertEquals(seen.value, "caller", "the caller's context values stay visible inside the scope");
  const [leak] = pool.leaks();
  assertEquals(leak.leaseId, seen.id);
  assertEquals([leak.scope, leak.traceId, leak.spanId], ["no-sdk", undefined, undefined]);
  assertEquals(logs.join("\n").includes(ZERO_TRACE), false, "no all-zero trace id in any report");
  pool.reset();
  await pool.end();
});
