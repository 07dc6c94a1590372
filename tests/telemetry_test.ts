import { assert, assertEquals, assertLess, assertNotMatch, assertStrictEquals } from "@std/assert";
import { jaegerSearchUrl, setupTelemetry, traceUrl } from "../lib/telemetry.ts";
import { TracedPool } from "../lib/pool.ts";
import { checkpointDatabaseUrl, uniquePoolName } from "../lib/workshop/checkpoint_database.ts";
import { startOtlpReceiver } from "./support/otlp_receiver.ts";

Deno.test("setupTelemetry() exports the pool's spans over OTLP/HTTP and keeps them in memory", async () => {
  const receiver = startOtlpReceiver();
  const telemetry = await setupTelemetry({
    otlpEndpoint: receiver.endpoint,
    serviceName: "leak-lab-test",
    log: () => {},
  });
  try {
    assertEquals(telemetry.exportingTo, `${receiver.endpoint}/v1/traces`);
    const pool = new TracedPool({
      connectionString: checkpointDatabaseUrl(),
      name: uniquePoolName("otlp"),
      log: () => {},
    });
    await pool.scope("bad_query_with_leak", async () => {
      const conn = await pool.acquire();
      await conn.query("SELECT 1 / 0").catch(() => {});
    });
    await telemetry.flush();

    const exported = receiver.payloads.flatMap((p) => p.json.resourceSpans);
    const serviceNames = exported.map((r) => r.resource.attributes.find((a) => a.key === "service.name")?.value);
    assertEquals(new Set(serviceNames.map((v) => v?.stringValue)), new Set(["leak-lab-test"]));
    const spans = exported.flatMap((r) => r.scopeSpans.flatMap((s) => s.spans));
    const byName = (name: string) => spans.find((s) => s.name === name)!;
    assertEquals(spans.map((s) => s.name).sort(), ["bad_query_with_leak", "database.query", "get_connection"]);
    const scope = byName("bad_query_with_leak");
    assertEquals(scope.events?.map((e) => e.name), ["connection_leaked"]);
    assertEquals(byName("database.query").events?.map((e) => e.name), ["query_error"]);
    for (const child of [byName("get_connection"), byName("database.query")]) {
      assertEquals(child.traceId, scope.traceId);
      assertEquals(child.parentSpanId, scope.spanId);
    }
    assert(/^[0-9a-f]{32}$/.test(scope.traceId), "trace ids are 32 lowercase hex digits");
    const inMemory = telemetry.spans.trace(scope.traceId).map((s) => s.spanContext().spanId).sort();
    assertEquals(inMemory, spans.map((s) => s.spanId).sort(), "the in-memory store holds the same spans");

    const password = new URL(checkpointDatabaseUrl()).password;
    if (password) {
      for (const { raw } of receiver.payloads) assertNotMatch(raw, new RegExp(password), "no password is exported");
    }
    await pool.end();
  } finally {
    await telemetry.shutdown();
    await receiver.server.shutdown();
  }
});

Deno.test("telemetry.flush() gives up after flushTimeoutMs when Jaeger is down, and says so once", async () => {
  const closed = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (closed.addr as Deno.NetAddr).port;
  closed.close(); // nothing listens here now
  const messages: string[] = [];
  const telemetry = await setupTelemetry({
    otlpEndpoint: `http://127.0.0.1:${port}`,
    flushTimeoutMs: 500,
    log: (message) => messages.push(message),
  });
  try {
    for (let round = 0; round < 2; round++) {
      telemetry.tracer.startSpan(`round ${round}`).end();
      const started = performance.now();
      await telemetry.flush();
      assertLess(performance.now() - started, 1_500, "flush must not block on a Jaeger that is down");
    }
  } finally {
    await telemetry.shutdown();
  }
  const failures = messages.filter((m) => m.startsWith("Could not export traces"));
  assertEquals(failures.length, 1, `one report, not one per batch: ${JSON.stringify(messages)}`);
  assert(failures[0].includes(`http://127.0.0.1:${port}/v1/traces`), "the report names the endpoint");
  assert(failures[0].includes("docker compose up -d jaeger"), "the report says what to do");
});

Deno.test("setupTelemetry() returns the same setup until shutdown, then sets up anew", async () => {
  const first = await setupTelemetry({ otlpEndpoint: false });
  assertStrictEquals(await setupTelemetry({ otlpEndpoint: false }), first);
  assertEquals(first.exportingTo, undefined);
  await first.shutdown();
  const second = await setupTelemetry({ otlpEndpoint: false, serviceName: "again" });
  assert(second !== first);
  assertEquals(second.serviceName, "again");
  await second.shutdown();
});

Deno.test("setupTelemetry() sends to OTEL_EXPORTER_OTLP_ENDPOINT when it is set", async () => {
  Deno.env.set("OTEL_EXPORTER_OTLP_ENDPOINT", "http://127.0.0.1:1/");
  try {
    const telemetry = await setupTelemetry({ log: () => {} });
    assertEquals(telemetry.exportingTo, "http://127.0.0.1:1/v1/traces");
    await telemetry.shutdown();
  } finally {
    Deno.env.delete("OTEL_EXPORTER_OTLP_ENDPOINT");
  }
});

Deno.test("telemetry.collectMetrics() reports the pool under semantic-convention names", async () => {
  const telemetry = await setupTelemetry({ otlpEndpoint: false });
  const name = uniquePoolName("metrics");
  const pool = new TracedPool({
    connectionString: checkpointDatabaseUrl(),
    name,
    max: 1,
    acquireTimeoutMs: 100,
    log: () => {},
  });
  try {
    await pool.scope("leaks", () => pool.acquire());
    await pool.acquire().catch(() => {}); // times out: the only connection leaked
    const points = (await telemetry.collectMetrics()).filter((p) =>
      p.attributes["db.client.connection.pool.name"] === name
    );
    const value = (metric: string, state?: string) =>
      points.find((p) => p.name === metric && (!state || p.attributes["db.client.connection.state"] === state))?.value;
    assertEquals(value("db.client.connection.count", "used"), 1);
    assertEquals(value("db.client.connection.count", "idle"), 0);
    assertEquals(value("db.client.connection.max"), 1);
    assertEquals(value("db.client.connection.pending_requests"), 0);
    assertEquals(value("db.client.connection.timeouts"), 1);
    assertEquals(value("leaklab.db.client.connection.leaked"), 1);
    assertEquals(value("db.client.connection.wait_time"), 1, "one successful acquire was timed");
    assertEquals(points.find((p) => p.name === "db.client.connection.wait_time")?.unit, "s");
  } finally {
    await pool.end();
    await telemetry.shutdown();
  }
});

Deno.test("traceUrl() and jaegerSearchUrl() build Jaeger UI links", () => {
  const id = "4bf92f3577b34da6a3ce929d0e0e4736";
  assertEquals(traceUrl(id, "http://jaeger:16686/"), `http://jaeger:16686/trace/${id}`);
  Deno.env.set("JAEGER_UI_URL", "http://example.test:1");
  try {
    assertEquals(traceUrl(id), `http://example.test:1/trace/${id}`);
  } finally {
    Deno.env.delete("JAEGER_UI_URL");
  }
  assertEquals(traceUrl(id), `http://localhost:16686/trace/${id}`);
  const search = new URL(jaegerSearchUrl("leak-lab", { event: "connection_leaked" }));
  assertEquals(search.pathname, "/search");
  assertEquals(search.searchParams.get("service"), "leak-lab");
  assertEquals(JSON.parse(search.searchParams.get("tags")!), { event: "connection_leaked" });
});
