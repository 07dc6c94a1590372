import { assert, assertEquals, assertNotMatch, assertRejects, assertStringIncludes } from "@std/assert";
import { sqlstate } from "../lib/database.ts";
import { FaultSchedule } from "../lib/demo/fault_schedule.ts";
import { badQueryWithLeak, goodQueryNoLeak } from "../lib/demo/query_handlers.ts";
import { runProgression, runRequests } from "../lib/demo/request_series.ts";
import { LEAK_SEARCH_TAGS, TracedPool } from "../lib/pool.ts";
import { leaseBalance, traceOf } from "../lib/workshop/checkpoint_checks.ts";
import { startOtlpReceiver } from "./support/otlp_receiver.ts";
import { checkpointDatabaseUrl, uniquePoolName } from "../lib/workshop/checkpoint_database.ts";
import { recordingTracer } from "../lib/workshop/recording_tracer.ts";

const pick = (rows: { active: number; available: number; leaked: number; outcome: string }[]) =>
  rows.map(({ active, available, leaked, outcome }) => [active, available, leaked, outcome]);

Deno.test("runProgression() with badQueryWithLeak reproduces the original demo's table, then exhaustion", async () => {
  const { tracer, exporter } = recordingTracer();
  const pool = new TracedPool({
    connectionString: checkpointDatabaseUrl(),
    name: uniquePoolName("progression"),
    acquireTimeoutMs: 150,
    tracer,
    log: () => {},
  });
  const faults = new FaultSchedule({ failEvery: 2 });
  const rows = await runProgression({ pool, tracer, requests: 12, handler: () => badQueryWithLeak(pool, faults) });
  assertEquals(pick(rows), [
    [0, 5, 0, "ok"],
    [1, 4, 1, "query failed"],
    [1, 4, 1, "ok"],
    [2, 3, 2, "query failed"],
    [2, 3, 2, "ok"],
    [3, 2, 3, "query failed"],
    [3, 2, 3, "ok"],
    [4, 1, 4, "query failed"],
    [4, 1, 4, "ok"],
    [5, 0, 5, "query failed"],
    [5, 0, 5, "pool exhausted"],
    [5, 0, 5, "pool exhausted"],
  ]);
  assertStringIncludes(rows[10].error!, "Connection pool exhausted");
  const spans = exporter.getFinishedSpans();
  const requestSpans = spans.filter((s) => s.name === "scenario.request");
  assertEquals(requestSpans.map((s) => s.spanContext().traceId), rows.map((r) => r.traceId));
  const leakedTraces = new Set(
    spans.filter((s) => s.events.some((e) => e.name === "connection_leaked")).map((s) => s.spanContext().traceId),
  );
  assertEquals(
    rows.filter((r) => leakedTraces.has(r.traceId)).map((r) => r.request),
    [2, 4, 6, 8, 10],
    "exactly the failed requests leak",
  );
  await pool.end();
});

Deno.test("runProgression() with goodQueryNoLeak keeps the pool healthy through the same failures", async () => {
  const pool = new TracedPool({
    connectionString: checkpointDatabaseUrl(),
    name: uniquePoolName("good"),
    log: () => {},
  });
  const faults = new FaultSchedule({ failEvery: 2 });
  const rows = await runProgression({ pool, requests: 12, handler: () => goodQueryNoLeak(pool, faults) });
  assertEquals(rows.map((r) => r.outcome), Array.from({ length: 12 }, (_, i) => i % 2 ? "query failed" : "ok"));
  assertEquals(rows.map((r) => r.leaked), Array(12).fill(0));
  assertEquals(rows.map((r) => r.available), Array(12).fill(5));
  await pool.end();
});

Deno.test("runRequests() runs each request in its own trace and keeps values and errors", async () => {
  const { tracer, exporter } = recordingTracer();
  const pool = new TracedPool({
    connectionString: checkpointDatabaseUrl(),
    name: uniquePoolName("checkpoint-requests"),
    tracer,
    log: () => {},
  });
  try {
    const outcomes = await runRequests({
      tracer,
      root: true,
      spanName: "checkpoint.request",
      count: 3,
      send: (request) =>
        pool.scope("request", async () => {
          const conn = await pool.acquire();
          const rows = (await conn.query(request === 2 ? "SELECT 1 / 0 AS n" : `SELECT ${request} AS n`)).rows;
          conn.release(); // deliberately only on success: request 2 keeps its connection
          return rows[0].n as number;
        }),
    });
    assertEquals(outcomes.map((o) => [o.request, o.ok, o.value]), [[1, true, 1], [2, false, undefined], [3, true, 3]]);
    assertEquals(sqlstate(outcomes[1].error), "22012");
    assertEquals(new Set(outcomes.map((o) => o.traceId)).size, 3, "one trace per request");
    const spans = exporter.getFinishedSpans();
    for (const outcome of outcomes) {
      const trace = traceOf(spans, outcome.traceId);
      const root = trace.find((span) => span.name === "checkpoint.request")!;
      assertEquals(root.attributes["leaklab.request"], outcome.request);
      assertEquals(root.parentSpanContext, undefined);
    }
    assertEquals(leaseBalance(spans, outcomes[0].traceId), { acquired: [1], kept: [] });
    assertEquals(leaseBalance(spans, outcomes[1].traceId), { acquired: [2], kept: [2] });
    assertEquals(pool.stats().active, 1);
  } finally {
    await pool.end();
  }
});

Deno.test("runRequests() rejects a count that is not a positive integer", async () => {
  for (const count of [0, -1, 1.5]) {
    await assertRejects(
      () => runRequests({ count, send: () => Promise.resolve() }),
      RangeError,
      `'count' must be a positive integer: current value is ${count}`,
    );
  }
});

async function scenario(env: Record<string, string>): Promise<string> {
  const output = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", "tasks/scenario.ts"],
    env: { REQUESTS: "12", ...env },
    stdout: "piped",
    stderr: "piped",
  }).output();
  assertEquals(output.code, 0, new TextDecoder().decode(output.stderr));
  return new TextDecoder().decode(output.stdout);
}

Deno.test("deno task scenario without Jaeger prints trace ids, no dead link, and draws each leaking trace", async () => {
  const stdout = await scenario({ OTEL_EXPORTER_OTLP_ENDPOINT: "" }); // nothing listens on localhost:4318 here
  const lines = stdout.split("\n").filter((line) => /^\s+\d+\s/.test(line));
  assertEquals(lines.length, 12);
  assertStringIncludes(lines[1], "query failed");
  assertStringIncludes(lines[10], "pool exhausted");
  assertEquals(lines.every((line) => / {2}[0-9a-f]{32}$/.test(line)), true, "each row ends with its trace id");
  assertNotMatch(stdout, /https?:\/\//, "no link to a Jaeger that is not there");
  assertStringIncludes(stdout, "connection(s) leaked, acquired at: lib/demo/query_handlers.ts:");
  assertEquals(stdout.match(/^request (2|4|6|8|10), trace [0-9a-f]{32}$/gm)?.length, 5, "one waterfall per leak");
  assertEquals(stdout.match(/^└─ bad_query_with_leak \(\d+\.\d\d ms\) {2}⚑ LEAK$/gm)?.length, 5);
  assertStringIncludes(stdout, "To see these traces in Jaeger's UI: `docker compose up -d jaeger`");
});

Deno.test("deno task scenario with a trace receiver links each request's trace and the leak search", async () => {
  await using receiver = startOtlpReceiver();
  const stdout = await scenario({
    OTEL_EXPORTER_OTLP_ENDPOINT: receiver.endpoint,
    JAEGER_UI_URL: receiver.endpoint, // it answers GET /api/services as Jaeger's UI does
  });
  const lines = stdout.split("\n").filter((line) => /^\s+\d+\s/.test(line));
  assertEquals(lines.every((line) => line.endsWith(`  ${receiver.endpoint}/trace/${line.slice(-32)}`)), true, stdout);
  const [, search] = /Search Jaeger for every leaking request: (\S+)/.exec(stdout) ?? [];
  assertEquals(JSON.parse(new URL(search).searchParams.get("tags")!), LEAK_SEARCH_TAGS);
  const exported = new Set(receiver.spans().map((span) => span.traceId));
  assert(lines.every((line) => exported.has(line.slice(-32))), "every linked trace was exported");
});

Deno.test("deno task scenario rejects a bad REQUESTS value with a clear message", async () => {
  const output = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", "tasks/scenario.ts"],
    env: { REQUESTS: "lots" },
    stdout: "piped",
    stderr: "piped",
  }).output();
  assertEquals(output.code, 2);
  assertStringIncludes(
    new TextDecoder().decode(output.stderr),
    'REQUESTS must be a whole number from 1 to 1000 (requests to send): current value is "lots"',
  );
});
