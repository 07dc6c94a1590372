/**
 * The leak search link against the bytes that leave the process: spans are
 * exported over OTLP to a receiver on 127.0.0.1, and Jaeger v2's own search
 * rules (tests/support/jaeger_search.ts, ported from its memory store) are
 * applied to them. The link must find every leaking request and nothing
 * else — in particular not the requests that merely failed.
 */
import { assert, assertEquals } from "@std/assert";
import { context, propagation, ROOT_CONTEXT } from "@opentelemetry/api";
import { FaultSchedule } from "../lib/demo/fault_schedule.ts";
import { badQueryWithLeak, goodQueryNoLeak } from "../lib/demo/query_handlers.ts";
import { runRequests } from "../lib/demo/request_series.ts";
import { LEAK_ATTRIBUTE, LEAK_SEARCH_TAGS, TracedPool } from "../lib/pool.ts";
import { jaegerSearchUrl, setupTelemetry } from "../lib/telemetry.ts";
import { checkpointDatabaseUrl, uniquePoolName } from "../lib/workshop/checkpoint_database.ts";
import { queryOfSearchUrl, searchTraces } from "./support/jaeger_search.ts";
import { startOtlpReceiver } from "./support/otlp_receiver.ts";

const SERVICE = "leak-lab-search-test";
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

Deno.test("the leak search link finds exactly the leaking requests in the exported spans, as Jaeger v2 searches", async () => {
  await using receiver = startOtlpReceiver();
  const telemetry = await setupTelemetry({ otlpEndpoint: receiver.endpoint, serviceName: SERVICE, log: () => {} });
  const pool = new TracedPool({
    connectionString: checkpointDatabaseUrl(),
    name: uniquePoolName("search"),
    max: 8,
    leakThresholdMs: 150,
    lateAcquireGraceMs: 50, // the late acquire is still out 50 ms after it arrived: reported then
    log: () => {},
  });
  try {
    const succeeds = new FaultSchedule({ failEvery: 0 });
    const fails = new FaultSchedule({ failEvery: 1 });
    const requests: Record<string, () => Promise<unknown>> = {
      "healthy": () => goodQueryNoLeak(pool, succeeds),
      "failed, connection returned": () => goodQueryNoLeak(pool, fails),
      "failed and leaked": () => badQueryWithLeak(pool, fails),
      "succeeded and leaked": () =>
        pool.scope("forgets_release", async () => {
          await pool.acquire();
        }),
      "leaked by an acquire() nobody awaited": async () => {
        let late: Promise<unknown> | undefined;
        await pool.scope("forgets_await", () => {
          late = pool.acquire();
        });
        await late;
      },
      "held past the leak threshold, outside any scope": async () => {
        await pool.acquire();
        await sleep(250);
      },
    };
    const names = Object.keys(requests);
    const outcomes = await runRequests({ root: true, count: names.length, send: (n) => requests[names[n - 1]]() });
    const traceOf = Object.fromEntries(names.map((name, i) => [name, outcomes[i].traceId]));
    await telemetry.flush();
    const spans = receiver.spans().filter((span) => Object.values(traceOf).includes(span.traceId));
    assertEquals(new Set(spans.map((s) => s.traceId)).size, names.length, "every request was exported");

    const link = jaegerSearchUrl(SERVICE, LEAK_SEARCH_TAGS, "http://localhost:16686");
    const leaking = ["failed and leaked", "succeeded and leaked", "leaked by an acquire() nobody awaited"];
    leaking.push("held past the leak threshold, outside any scope");
    assertEquals(searchTraces(spans, queryOfSearchUrl(link)), new Set(leaking.map((name) => traceOf[name])));

    // The tag the link searches for sits on the leaking spans, and on no healthy one.
    const tagged = spans.filter((s) => s.attributes?.some((a) => a.key === LEAK_ATTRIBUTE));
    assertEquals(
      tagged.map((s) => s.name).sort(),
      // connection_leak_detected twice: past the threshold, and the late acquire still out after its grace.
      ["bad_query_with_leak", "connection_leak_detected", "connection_leak_detected", "forgets_release"],
    );
    for (const span of tagged) {
      assertEquals(span.attributes!.find((a) => a.key === LEAK_ATTRIBUTE)!.value, { boolValue: true });
      const event = span.events?.find((e) => e.name === "connection_leaked");
      assert(event, `${span.name} carries its connection_leaked event`);
      const attribute = (key: string) => event.attributes?.find((a) => a.key === key)?.value;
      assertEquals(attribute("event"), { stringValue: "connection_leaked" });
      assertEquals(attribute("db.client.connection.pool.name"), { stringValue: pool.name });
      assert(attribute("lease.id")?.intValue !== undefined && attribute("lease.acquire_site")?.stringValue);
    }
    for (const name of ["healthy", "failed, connection returned"]) {
      const healthy = spans.filter((s) => s.traceId === traceOf[name]);
      assert(healthy.length >= 3, `${name} exported its spans`);
      assert(!JSON.stringify(healthy).includes(LEAK_ATTRIBUTE), `${name} carries no leak tag`);
    }

    // Errors are not leaks: error=true (Jaeger ≥ 2.17) finds the failed requests, one of which returned its connection.
    const errors = searchTraces(spans, { service: SERVICE, tags: { error: "true" } });
    assertEquals(errors, new Set([traceOf["failed, connection returned"], traceOf["failed and leaked"]]));
    // A v1-era link that searched the event's name as an `event` tag still finds the leaks, through the event attribute.
    assertEquals(
      searchTraces(spans, { service: SERVICE, tags: { event: "connection_leaked" } }),
      new Set(leaking.map((name) => traceOf[name])),
    );
  } finally {
    await pool.end();
    await telemetry.shutdown();
  }
});

Deno.test("a request whose traceparent says not sampled is kept in memory, and only its leak is exported", async () => {
  await using receiver = startOtlpReceiver();
  const telemetry = await setupTelemetry({ otlpEndpoint: receiver.endpoint, serviceName: SERVICE, log: () => {} });
  const pool = new TracedPool({ connectionString: checkpointDatabaseUrl(), name: uniquePoolName("sampling") });
  try {
    const traceIds: Record<string, string> = {};
    for (const [name, flags] of [["not sampled", "00"], ["sampled", "01"]]) {
      const traceId = crypto.randomUUID().replaceAll("-", "");
      traceIds[name] = traceId;
      const parent = propagation.extract(ROOT_CONTEXT, { traceparent: `00-${traceId}-00f067aa0ba902b7-${flags}` });
      await context.with(parent, () =>
        pool.scope("bad_query_with_leak", async () => {
          await pool.acquire(); // leaks: the point is that the leak is never lost locally
        }));
    }
    await telemetry.flush();
    const inMemory = {
      "not sampled": ["bad_query_with_leak", "connection_leak_detected", "get_connection"], // the report is exported
      "sampled": ["bad_query_with_leak", "get_connection"],
    };
    for (const name of ["not sampled", "sampled"] as const) {
      const local = telemetry.spans.trace(traceIds[name]);
      assertEquals(local.map((s) => s.name).sort(), inMemory[name], `${name}: in memory`);
      assertEquals(local.find((s) => s.name === "bad_query_with_leak")!.attributes[LEAK_ATTRIBUTE], true);
    }
    const exported = (name: string) => receiver.spans().filter((s) => s.traceId === traceIds[name]).map((s) => s.name);
    assertEquals(exported("not sampled"), ["connection_leak_detected"], "of the unsampled request, only its leak");
    assertEquals(exported("sampled").sort(), ["bad_query_with_leak", "get_connection"], "the sampled request whole");
  } finally {
    await pool.end();
    await telemetry.shutdown();
  }
});
