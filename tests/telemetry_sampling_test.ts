/**
 * setupTelemetry() and sampling (issue #17): the standard OTEL_TRACES_SAMPLER
 * variables and a `sampler` option, a leak of an unsampled request reaching an
 * OTLP receiver in the request's trace, Deno's built-in OpenTelemetry, and
 * spans that nest in time in every exported trace.
 */
import { assert, assertEquals, assertGreater, assertLess, assertStringIncludes } from "@std/assert";
import { context, propagation, ROOT_CONTEXT } from "@opentelemetry/api";
import { AlwaysOnSampler, ParentBasedSampler, TraceIdRatioBasedSampler } from "@opentelemetry/sdk-trace-base";
import { LEAK_SEARCH_TAGS, TracedPool } from "../lib/pool.ts";
import { jaegerSearchUrl, setupTelemetry } from "../lib/telemetry.ts";
import { runRequests } from "../lib/demo/request_series.ts";
import { openDatabase } from "../lib/database.ts";
import { readConfig } from "../lib/service/config.ts";
import { startService } from "../lib/service/server.ts";
import { checkpointDatabaseUrl, uniquePoolName } from "../lib/workshop/checkpoint_database.ts";
import { type ReceivedSpan, startOtlpReceiver } from "./support/otlp_receiver.ts";
import { queryOfSearchUrl, searchTraces } from "./support/jaeger_search.ts";

const url = checkpointDatabaseUrl();

/** Runs `fn` with the variables set, then puts the environment back as it was. */
async function withEnv<T>(variables: Record<string, string>, fn: () => Promise<T>): Promise<T> {
  const before = Object.fromEntries(Object.keys(variables).map((key) => [key, Deno.env.get(key)]));
  for (const [key, value] of Object.entries(variables)) Deno.env.set(key, value);
  try {
    return await fn();
  } finally {
    for (const [key, value] of Object.entries(before)) {
      value === undefined ? Deno.env.delete(key) : Deno.env.set(key, value);
    }
  }
}

Deno.test("setupTelemetry() uses the sampler OTEL_TRACES_SAMPLER and OTEL_TRACES_SAMPLER_ARG name, wrapped in keepLeaks", async () => {
  const cases: [string, string, string][] = [
    ["always_on", "", "KeepLeaks{AlwaysOnSampler}"],
    ["always_off", "", "KeepLeaks{AlwaysOffSampler}"],
    ["traceidratio", "0.25", "KeepLeaks{TraceIdRatioBased{0.25}}"],
    ["parentbased_always_on", "", "KeepLeaks{ParentBased{root=AlwaysOnSampler"],
    ["parentbased_always_off", "", "KeepLeaks{ParentBased{root=AlwaysOffSampler"],
    ["parentbased_traceidratio", "0.01", "KeepLeaks{ParentBased{root=TraceIdRatioBased{0.01}"],
  ];
  for (const [sampler, arg, expected] of cases) {
    const logs: string[] = [];
    await withEnv({ OTEL_TRACES_SAMPLER: sampler, OTEL_TRACES_SAMPLER_ARG: arg }, async () => {
      const telemetry = await setupTelemetry({ otlpEndpoint: false, log: (line) => logs.push(line) });
      try {
        assertStringIncludes(String(telemetry.sampler), expected, `OTEL_TRACES_SAMPLER=${sampler}`);
      } finally {
        await telemetry.shutdown();
      }
    });
    assertEquals(logs.filter((line) => line.includes("sampler")), [], `nothing to say about ${sampler}`);
  }
});

Deno.test("setupTelemetry() passes on the SDK's words about a bad OTEL_TRACES_SAMPLER, and a sampler option wins", async () => {
  const logs: string[] = [];
  await withEnv({ OTEL_TRACES_SAMPLER: "parentbased_traceidratoi", OTEL_TRACES_SAMPLER_ARG: "2" }, async () => {
    const telemetry = await setupTelemetry({ otlpEndpoint: false, log: (line) => logs.push(line) });
    assertStringIncludes(String(telemetry.sampler), "KeepLeaks{ParentBased{root=AlwaysOnSampler");
    await telemetry.shutdown();
    const chosen = await setupTelemetry({ otlpEndpoint: false, sampler: new AlwaysOnSampler(), log: () => {} });
    assertEquals(String(chosen.sampler), "KeepLeaks{AlwaysOnSampler}", "the option beats the variable");
    await chosen.shutdown();
  });
  assertEquals(logs.length, 1, logs.join("\n"));
  assertStringIncludes(logs[0], `OTEL_TRACES_SAMPLER value "parentbased_traceidratoi" invalid`);
  const plain = await setupTelemetry({ otlpEndpoint: false, log: () => {} });
  assertEquals(String(plain.sampler), "KeepLocallySampler", "no sampler, no variable: every span recorded, as before");
  await plain.shutdown();
});

Deno.test("at OTEL_TRACES_SAMPLER=parentbased_traceidratio 0.1 about a tenth of 300 scopes are recorded", async () => {
  await withEnv({ OTEL_TRACES_SAMPLER: "parentbased_traceidratio", OTEL_TRACES_SAMPLER_ARG: "0.1" }, async () => {
    const telemetry = await setupTelemetry({ otlpEndpoint: false, log: () => {} });
    const pool = new TracedPool({ connectionString: url, name: uniquePoolName("ratio"), log: () => {} });
    try {
      for (let i = 0; i < 300; i++) await pool.scope("request", () => pool.query("SELECT 1"));
      const scopes = telemetry.spans.spans().filter((span) => span.name === "request").length;
      assertGreater(scopes, 8, `${scopes} of 300 recorded`); // binomial(300, 0.1): 30 ± 5.2; 8 and 60 are > 4 σ away
      assertLess(scopes, 60, `${scopes} of 300 recorded`);
    } finally {
      await pool.end();
      await telemetry.shutdown();
    }
  });
});

Deno.test("a leak in an unsampled request reaches the OTLP receiver in that request's trace, and Jaeger's search finds it", async () => {
  const receiver = startOtlpReceiver();
  const telemetry = await setupTelemetry({
    otlpEndpoint: receiver.endpoint,
    sampler: new ParentBasedSampler({ root: new TraceIdRatioBasedSampler(0) }), // no request is sampled
    serviceName: "leak-lab-sampling",
    log: () => {},
  });
  const pool = new TracedPool({
    connectionString: url,
    name: uniquePoolName("unsampled"),
    captureAcquireSites: "always",
    log: () => {},
  });
  try {
    const outcomes = await runRequests({
      count: 6,
      tracer: telemetry.tracer,
      root: true,
      send: (request) =>
        pool.scope("handler", async () => {
          const conn = await pool.acquire();
          await conn.query("SELECT 1");
          if (request % 3 !== 0) conn.release(); // requests 3 and 6 leak
        }),
    });
    await telemetry.flush();
    const spans = receiver.spans();
    const leaking = new Set([outcomes[2].traceId, outcomes[5].traceId]);
    assertEquals(new Set(spans.map((span) => span.traceId)), leaking, "only the leaks were exported, in their traces");
    for (const span of spans) {
      assertEquals(span.name, "connection_leak_detected");
      const value = (key: string) => span.attributes?.find((a) => a.key === key)?.value;
      assertEquals(value("leaklab.leak")?.boolValue, true);
      assertEquals(value("leaklab.scope")?.stringValue, "handler");
      assert(Number(value("lease.pid")?.intValue) > 0, "the backend pid");
      assertStringIncludes(String(value("lease.acquire_site")?.stringValue), "tests/telemetry_sampling_test.ts:");
    }
    const search = queryOfSearchUrl(jaegerSearchUrl("leak-lab-sampling", LEAK_SEARCH_TAGS));
    assertEquals(
      searchTraces(spans, search),
      leaking,
      "the workshop's Jaeger search finds exactly the leaking requests",
    );
    pool.reset();
  } finally {
    await pool.end();
    await telemetry.shutdown();
    await receiver.server.shutdown();
  }
});

/** Every exported span that has a parent in the same export starts and ends within it. */
function outsideParents(spans: readonly ReceivedSpan[]): string[] {
  const byId = new Map(spans.map((span) => [span.spanId, span]));
  const problems: string[] = [];
  for (const span of spans) {
    const parent = span.parentSpanId ? byId.get(span.parentSpanId) : undefined;
    if (!parent) continue;
    const [start, end, parentStart, parentEnd] = [
      span.startTimeUnixNano,
      span.endTimeUnixNano,
      parent.startTimeUnixNano,
      parent.endTimeUnixNano,
    ]
      .map((nanos) => BigInt(nanos!));
    if (start < parentStart || end > parentEnd) {
      problems.push(`${span.name} [${start}, ${end}] outside ${parent.name} [${parentStart}, ${parentEnd}]`);
    }
  }
  return problems;
}

Deno.test("spans nest in time: every child starts and ends within its parent in the service's and a request series' traces", async () => {
  const receiver = startOtlpReceiver();
  const telemetry = await setupTelemetry({ otlpEndpoint: receiver.endpoint, log: () => {} });
  const config = readConfig(new Map([["PORT", "0"], ["POOL_NAME", uniquePoolName("nesting")], ["FAIL_EVERY", "2"]]));
  const database = await openDatabase({ url });
  const service = await startService(config, { telemetry, database, log: () => {}, warn: () => {} });
  try {
    for (let i = 0; i < 6; i++) { // three leaks of five connections: no request waits for one
      for (const endpoint of ["good", "bad"]) {
        const response = await fetch(`${service.url}api/${endpoint}`, {
          method: "POST",
          headers: { "content-type": "application/json" },
          body: "{}",
        });
        await response.body?.cancel();
      }
    }
    await fetch(`${service.url}api/reset`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: "{}",
    })
      .then((response) => response.body?.cancel());
    const pool = new TracedPool({ connectionString: url, name: uniquePoolName("series"), log: () => {} });
    await runRequests({
      count: 5,
      tracer: telemetry.tracer,
      root: true,
      send: () => pool.query("SELECT pg_sleep(0.001)"),
    });
    await pool.end();
    await telemetry.flush();
    const spans = receiver.spans();
    assertGreater(spans.filter((span) => span.parentSpanId).length, 40, "enough parent-child pairs to judge");
    assertEquals(outsideParents(spans), []);
  } finally {
    await service.close();
    await telemetry.shutdown();
    await receiver.server.shutdown();
  }
});

Deno.test("under OTEL_DENO=true the pool's spans join Deno.serve's server span, stay in memory, and setupTelemetry says so", async () => {
  const receiver = startOtlpReceiver();
  try {
    const output = await new Deno.Command(Deno.execPath(), {
      args: ["run", "-A", new URL("./support/deno_otel_app.ts", import.meta.url).pathname],
      env: {
        OTEL_DENO: "true",
        OTEL_EXPORTER_OTLP_ENDPOINT: receiver.endpoint,
        OTEL_EXPORTER_OTLP_PROTOCOL: "http/json",
        OTEL_SERVICE_NAME: "deno-otel-app",
        DATABASE_URL: url,
      },
      stdout: "piped",
      stderr: "piped",
    }).output();
    const stderr = new TextDecoder().decode(output.stderr);
    assert(output.success, stderr);
    const report = JSON.parse(new TextDecoder().decode(output.stdout).trim().split("\n").at(-1)!);
    assertStringIncludes(report.logs.join("\n"), "Deno's built-in OpenTelemetry (OTEL_DENO) owns the global tracer");
    assertEquals(report.exportingTo, `${receiver.endpoint}/v1/traces`, "it reports the export it does itself");
    assert(report.inMemory >= 4, `the pool's spans stay in memory (${report.inMemory})`);
    assertGreater(report.metricPoints, 0, "its metrics are read on demand");
    await new Promise((resolve) => setTimeout(resolve, 200));
    const spans = receiver.spans();
    const inTrace = spans.filter((span) => span.traceId === report.traceId);
    const scope = inTrace.find((span) => span.name === "handler");
    assert(scope, `the pool's scope arrived in trace ${report.traceId}: ${inTrace.map((s) => s.name).join(", ")}`);
    const server = inTrace.find((span) => span.spanId === scope.parentSpanId);
    assertEquals(server?.name, "GET", "the pool's scope is a child of Deno.serve's server span");
    const names = new Set(inTrace.map((span) => span.name));
    for (const name of ["get_connection", "database.query", "return_connection"]) assert(names.has(name), name);
  } finally {
    await receiver.server.shutdown();
  }
});

Deno.test("setupTelemetry()'s default: a leak in a request whose traceparent says not sampled is still exported", async () => {
  const receiver = startOtlpReceiver();
  const telemetry = await setupTelemetry({ otlpEndpoint: receiver.endpoint, log: () => {} });
  const pool = new TracedPool({ connectionString: url, name: uniquePoolName("flags-00"), log: () => {} });
  try {
    const traceId = "4bf92f3577b34da6a3ce929d0e0e4736";
    const remote = propagation.extract(ROOT_CONTEXT, { traceparent: `00-${traceId}-00f067aa0ba902b7-00` });
    await context.with(remote, () => pool.scope("handler", () => pool.acquire())); // leaks
    await telemetry.flush();
    const exported = receiver.spans();
    assertEquals(exported.map((span) => [span.name, span.traceId]), [["connection_leak_detected", traceId]]);
    assert(telemetry.spans.trace(traceId).some((span) => span.name === "handler"), "the whole request stays in memory");
    pool.reset();
  } finally {
    await pool.end();
    await telemetry.shutdown();
    await receiver.server.shutdown();
  }
});

Deno.test("OTEL_TRACES_SAMPLER is case-insensitive and trimmed; OTEL_TRACES_EXPORTER=none exports nothing", async () => {
  const logs: string[] = [];
  await withEnv({
    OTEL_TRACES_SAMPLER: " ParentBased_TraceIdRatio ",
    OTEL_TRACES_SAMPLER_ARG: " 0.2 ",
    OTEL_TRACES_EXPORTER: "none",
  }, async () => {
    const telemetry = await setupTelemetry({ log: (line) => logs.push(line) });
    try {
      assertStringIncludes(String(telemetry.sampler), "ParentBased{root=TraceIdRatioBased{0.2}");
      assertEquals(telemetry.exportingTo, undefined);
    } finally {
      await telemetry.shutdown();
    }
    assertEquals(
      Deno.env.get("OTEL_TRACES_SAMPLER"),
      " ParentBased_TraceIdRatio ",
      "the environment is left as it was",
    );
  });
  assertEquals(logs, ["No trace export: OTEL_TRACES_EXPORTER=none."]);
});
