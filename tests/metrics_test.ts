import { assert, assertEquals, assertMatch, assertNotEquals, assertStringIncludes } from "@std/assert";
import { FaultSchedule } from "../lib/demo/fault_schedule.ts";
import { ALERT_THRESHOLDS, TracedPool } from "../lib/pool.ts";
import { POOL_TIME_BUCKETS_SECONDS } from "../lib/pool/metrics.ts";
import { PROMETHEUS_CONTENT_TYPE, setupTelemetry } from "../lib/telemetry.ts";
import { poolAlertRules } from "../lib/service/alert_rules.ts";
import { createApp } from "../lib/service/app.ts";
import { tracedHandlers } from "../lib/service/demo_pool.ts";
import { checkpointDatabaseUrl, uniquePoolName } from "../lib/workshop/checkpoint_database.ts";
import { parseScrape } from "../lib/service/page/alerts.js";
import { hasCommand, PROMETHEUS_INSTALL, promtool } from "./support/prometheus.ts";
import { requirement } from "./support/requirement.ts";

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

/** A pool of 1 that leaked its connection and then timed out once, served by the app with /metrics. */
async function leakyApp(telemetry: Awaited<ReturnType<typeof setupTelemetry>>) {
  const name = uniquePoolName("metrics");
  const pool = new TracedPool({
    connectionString: checkpointDatabaseUrl(),
    name,
    max: 1,
    acquireTimeoutMs: 100,
    leakThresholdMs: 60_000,
    log: () => {},
  });
  const faults = new FaultSchedule({ failEvery: 1 });
  const app = createApp({
    pool,
    handlers: tracedHandlers(pool, faults),
    faults,
    spans: telemetry.spans,
    metrics: () => telemetry.prometheusMetrics(),
  });
  const post = async (path: string) =>
    (await app(
      new Request(`http://127.0.0.1${path}`, { method: "POST", headers: { "content-type": "application/json" } }),
    )).status;
  assertEquals(await post("/api/bad"), 500, "the query failed and leaked its connection");
  assertEquals(await post("/api/bad"), 503, "the next request timed out");
  return { app, pool, name };
}

Deno.test("GET /metrics serves the pool's series in the Prometheus text format, labelled with pool and instance", async () => {
  const telemetry = await setupTelemetry({ otlpEndpoint: false, log: () => {}, serviceInstanceId: "replica-test" });
  const { app, pool, name } = await leakyApp(telemetry);
  try {
    const spansBefore = telemetry.spans.spans().length;
    const response = await app(new Request("http://127.0.0.1/metrics"));
    assertEquals(response.status, 200);
    assertEquals(response.headers.get("content-type"), PROMETHEUS_CONTENT_TYPE);
    const text = await response.text();
    assertEquals(telemetry.spans.spans().length, spansBefore, "a scrape is not traced");

    const samples = parseScrape(text).filter((s) => s.labels.db_client_connection_pool_name === name);
    const value = (metric: string, labels: Record<string, string> = {}) =>
      samples.find((s) => s.name === metric && Object.entries(labels).every(([k, v]) => s.labels[k] === v))?.value;
    assertEquals(value("db_client_connection_count", { db_client_connection_state: "used" }), 1);
    assertEquals(value("db_client_connection_count", { db_client_connection_state: "idle" }), 0);
    assertEquals(value("db_client_connection_max"), 1);
    assertEquals(value("db_client_connection_pending_requests"), 0);
    assertEquals(value("leaklab_db_client_connection_leaked"), 1);
    assertEquals(value("db_client_connection_timeouts_total"), 1);
    assertEquals(value("leaklab_db_client_connection_leak_threshold"), 60);
    const age = value("leaklab_db_client_connection_oldest_lease_age")!;
    assert(age > 0 && age < 60, `the leaked connection has been out ${age} s`);
    assertEquals(value("db_client_connection_wait_time_count"), 1, "the successful acquire was timed");
    assertEquals(value("db_client_connection_use_time_count"), undefined, "the leaked lease never came back");
    for (const sample of samples) {
      assertEquals(sample.labels.service_instance_id, "replica-test", `${sample.name} names the instance`);
      assertEquals(sample.labels.service_name, "leak-lab", `${sample.name} names the service`);
    }
    assertMatch(text, /^target_info\{service_instance_id="replica-test",service_name="leak-lab"\} 1$/m);
    assertMatch(text, /^# TYPE db_client_connection_wait_time histogram$/m);
    assertMatch(text, /^# TYPE db_client_connection_timeouts_total counter$/m);

    // Seconds, with the wait alert's threshold as a bucket edge.
    const edges = samples.filter((s) => s.name === "db_client_connection_wait_time_bucket").map((s) => s.labels.le);
    assertEquals(edges, [...POOL_TIME_BUCKETS_SECONDS.map(String), "+Inf"]);
    assert(POOL_TIME_BUCKETS_SECONDS.includes(ALERT_THRESHOLDS.acquireWaitSeconds));
    assertEquals([POOL_TIME_BUCKETS_SECONDS[0], POOL_TIME_BUCKETS_SECONDS.at(-1)], [0.001, 60]);

    // Every series and label an alert rule reads is in the scrape.
    const names = new Set(samples.flatMap((s) => [s.name, ...Object.keys(s.labels)]));
    for (const rule of poolAlertRules()) {
      for (const [name] of rule.expr.matchAll(/\b(?:db_client|leaklab)_[a-z_]+/g)) {
        assert(names.has(name), `${rule.alert} reads ${name}, which /metrics does not serve`);
      }
    }

    const post = await app(new Request("http://127.0.0.1/metrics", { method: "POST" }));
    assertEquals([post.status, post.headers.get("allow")], [405, "GET, HEAD"]);
    await post.body?.cancel();
  } finally {
    await pool.end();
    await telemetry.shutdown();
  }
});

Deno.test({
  name: "promtool check metrics parses the scrape; its only lint is semconv's db.client.connection.count",
  ...requirement("promtool", hasCommand("promtool"), PROMETHEUS_INSTALL),
  async fn() {
    const telemetry = await setupTelemetry({ otlpEndpoint: false, log: () => {} });
    const { app, pool } = await leakyApp(telemetry);
    try {
      const text = await (await app(new Request("http://127.0.0.1/metrics"))).text();
      const { code, output } = await promtool(["check", "metrics"], text);
      const problems = output.trim().split("\n").filter((line) => line !== "");
      // Exit code 3 is "lint problems", not a parse error. The semantic-convention name ends in _count.
      assertEquals(problems, [
        'db_client_connection_count non-histogram and non-summary metrics should not have "_count" suffix',
      ]);
      assertEquals(code, 3);
    } finally {
      await pool.end();
      await telemetry.shutdown();
    }
  },
});

Deno.test("setupTelemetry() gives the process one random service.instance.id, unless OTEL_RESOURCE_ATTRIBUTES or the option sets it", async () => {
  const first = await setupTelemetry({ otlpEndpoint: false, log: () => {} });
  const id = first.serviceInstanceId;
  await first.shutdown();
  assertMatch(id, UUID);
  const again = await setupTelemetry({ otlpEndpoint: false, log: () => {} });
  assertEquals(again.serviceInstanceId, id, "the same process keeps its id when telemetry is set up again");
  assertStringIncludes(await again.prometheusMetrics(), `service_instance_id="${id}"`);
  await again.shutdown();

  Deno.env.set("OTEL_RESOURCE_ATTRIBUTES", "service.instance.id=replica-7,deployment.environment.name=workshop");
  try {
    const fromEnv = await setupTelemetry({ otlpEndpoint: false, log: () => {} });
    assertEquals(fromEnv.serviceInstanceId, "replica-7");
    assertStringIncludes(await fromEnv.prometheusMetrics(), 'deployment_environment_name="workshop"');
    await fromEnv.shutdown();
    const fromOption = await setupTelemetry({ otlpEndpoint: false, log: () => {}, serviceInstanceId: "replica-8" });
    assertEquals(fromOption.serviceInstanceId, "replica-8", "the option beats the environment");
    await fromOption.shutdown();
  } finally {
    Deno.env.delete("OTEL_RESOURCE_ATTRIBUTES");
  }
  Deno.env.set("OTEL_SERVICE_NAME", "leak-lab-replicas");
  try {
    const named = await setupTelemetry({ otlpEndpoint: false, log: () => {} });
    assertEquals([named.serviceName, named.serviceInstanceId], ["leak-lab-replicas", id]);
    await named.shutdown();
  } finally {
    Deno.env.delete("OTEL_SERVICE_NAME");
  }
  const other = await new Deno.Command(Deno.execPath(), {
    args: [
      "eval",
      `import { setupTelemetry } from "${new URL("../lib/telemetry.ts", import.meta.url)}";
      const t = await setupTelemetry({ otlpEndpoint: false }); console.log(t.serviceInstanceId); await t.shutdown();`,
    ],
    stdout: "piped",
  }).output();
  const otherId = new TextDecoder().decode(other.stdout).trim();
  assertMatch(otherId, UUID);
  assertNotEquals(otherId, id, "another process gets another id");
});
