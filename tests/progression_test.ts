import { assertEquals, assertStringIncludes } from "@std/assert";
import { FaultSchedule } from "../lib/faults.ts";
import { badQueryWithLeak, goodQueryNoLeak } from "../lib/handlers.ts";
import { TracedPool } from "../lib/pool.ts";
import { runProgression } from "../lib/progression.ts";
import { testDatabaseUrl, uniquePoolName } from "./support/database.ts";
import { testTracer } from "./support/tracing.ts";

const pick = (rows: { active: number; available: number; leaked: number; outcome: string }[]) =>
  rows.map(({ active, available, leaked, outcome }) => [active, available, leaked, outcome]);

Deno.test("runProgression() with badQueryWithLeak reproduces the original demo's table, then exhaustion", async () => {
  const { tracer, exporter } = testTracer();
  const pool = new TracedPool({
    connectionString: testDatabaseUrl(),
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
  const pool = new TracedPool({ connectionString: testDatabaseUrl(), name: uniquePoolName("good"), log: () => {} });
  const faults = new FaultSchedule({ failEvery: 2 });
  const rows = await runProgression({ pool, requests: 12, handler: () => goodQueryNoLeak(pool, faults) });
  assertEquals(rows.map((r) => r.outcome), Array.from({ length: 12 }, (_, i) => i % 2 ? "query failed" : "ok"));
  assertEquals(rows.map((r) => r.leaked), Array(12).fill(0));
  assertEquals(rows.map((r) => r.available), Array(12).fill(5));
  await pool.end();
});

Deno.test("deno task scenario prints the progression with a trace link per request", async () => {
  const output = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", "tasks/scenario.ts"],
    env: { REQUESTS: "12", OTEL_EXPORTER_OTLP_ENDPOINT: "" },
    stdout: "piped",
    stderr: "piped",
  }).output();
  const stdout = new TextDecoder().decode(output.stdout);
  assertEquals(output.code, 0, new TextDecoder().decode(output.stderr));
  const lines = stdout.split("\n").filter((line) => /^\s+\d+\s/.test(line));
  assertEquals(lines.length, 12);
  assertStringIncludes(lines[1], "query failed");
  assertStringIncludes(lines[10], "pool exhausted");
  assertEquals(lines.every((line) => /\/trace\/[0-9a-f]{32}$/.test(line)), true);
  assertStringIncludes(stdout, "connection(s) leaked, acquired at: lib/handlers.ts:");
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
    'REQUESTS must be a whole number from 1 to 1000: current value is "lots"',
  );
});
