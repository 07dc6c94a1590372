/**
 * The demo service under the faults of the README's "Reliability" matrix
 * that no other test covers: Postgres down and back under load, backends
 * killed under load, 50 requests waiting on an exhausted pool, and an OTLP
 * endpoint that is down, black-holed or failing. Every answer must be JSON,
 * no request may hang, and the pool's counts must end where
 * `pg_stat_activity` says they are. Everything runs on 127.0.0.1.
 */
import { assert, assertEquals, assertLess, assertStringIncludes } from "@std/assert";
import { FaultSchedule } from "../lib/demo/fault_schedule.ts";
import { TracedPool } from "../lib/pool.ts";
import { setupTelemetry } from "../lib/telemetry.ts";
import { createApp } from "../lib/service/app.ts";
import { tracedHandlers } from "../lib/service/demo_pool.ts";
import { eventually } from "../lib/util/eventually.ts";
import { adminQuery, backendsOf, checkpointDatabaseUrl, uniquePoolName } from "../lib/workshop/checkpoint_database.ts";
import { startServiceProcess } from "./support/service_process.ts";
import { startTcpProxy } from "./support/tcp_proxy.ts";

const telemetry = await setupTelemetry({ otlpEndpoint: false, log: () => {} });
const ROOT = new URL("..", import.meta.url);
const JSON_POST = { method: "POST", headers: { "content-type": "application/json" } };

function newService(url: string, options: { max?: number; acquireTimeoutMs?: number; failEvery?: number } = {}) {
  const warnings: string[] = [];
  const pool = new TracedPool({
    connectionString: url,
    name: uniquePoolName("faults"),
    max: options.max ?? 5,
    acquireTimeoutMs: options.acquireTimeoutMs ?? 1_000,
    log: (line) => warnings.push(line),
  });
  const faults = new FaultSchedule({ failEvery: options.failEvery ?? 0 });
  const app = createApp({ pool, handlers: tracedHandlers(pool, faults), faults, spans: telemetry.spans });
  const post = async (endpoint: string) => {
    const started = performance.now();
    const response = await app(new Request(`http://127.0.0.1:9000/api/${endpoint}`, JSON_POST));
    const body = await response.json();
    return { status: response.status, outcome: body.outcome as string, ms: performance.now() - started };
  };
  return { pool, post, warnings };
}

/** Runs `clients` loops of POST /api/good until `stop()`; collects every answer by phase. */
function load(post: (endpoint: string) => Promise<{ status: number; outcome: string; ms: number }>, clients = 8) {
  let phase = "before";
  let running = true;
  const answers: { phase: string; status: number; outcome: string; ms: number }[] = [];
  const loops = Array.from({ length: clients }, async () => {
    while (running) {
      const at = phase;
      answers.push({ phase: at, ...await post("good") });
    }
  });
  return {
    answers,
    phase: (name: string) => (phase = name),
    stop: async () => {
      running = false;
      await Promise.all(loops);
    },
  };
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

function outcomes(answers: { status: number; outcome: string }[]): string[] {
  return [...new Set(answers.map((a) => `${a.status} ${a.outcome}`))].sort();
}

Deno.test("Postgres going down under load gets 503/500 answers, no hang; when it is back the service heals by itself", async () => {
  const real = new URL(checkpointDatabaseUrl());
  await using proxy = startTcpProxy({ hostname: real.hostname, port: Number(real.port || 5432) });
  const viaProxy = Object.assign(new URL(real), { port: String(proxy.port) }).href;
  const { pool, post } = newService(viaProxy, { acquireTimeoutMs: 1_000 });
  const traffic = load(post);
  await sleep(300);
  traffic.phase("down");
  await proxy.down();
  await sleep(1_000);
  traffic.phase("back");
  proxy.up();
  await eventually(() => traffic.answers.filter((a) => a.phase === "back" && a.status === 200).length, (n) => n >= 20, {
    timeoutMs: 5_000,
  });
  traffic.phase("healed");
  await sleep(300);
  await traffic.stop();

  // Each answer is filed under the phase its request started in.
  const by = (phase: string) => traffic.answers.filter((a) => a.phase === phase);
  for (const status of outcomes(traffic.answers)) {
    assert(["200 ok", "500 query failed", "503 database unavailable"].includes(status), status);
  }
  assert(by("before").some((a) => a.status === 200));
  assert(by("down").some((a) => a.outcome === "database unavailable"), "new connections are refused: 503");
  assertLess(Math.max(...traffic.answers.map((a) => a.ms)), 1_000 + 1_500, "no request hangs");
  assertEquals(outcomes(by("healed")), ["200 ok"], "healed with no restart of the service");
  const stats = pool.stats();
  assertEquals([stats.active, stats.leaked, stats.waiting], [0, 0, 0]);
  const backends = await eventually(() => backendsOf(pool.name), (rows) => rows.length === pool.stats().total);
  assertEquals(backends.length, pool.stats().total, "pg_stat_activity agrees with the pool");
  await pool.end();
});

Deno.test("backends killed under load (pg_terminate_backend) are replaced; 0 leaks and pg_stat_activity agrees", async () => {
  const { pool, post, warnings } = newService(checkpointDatabaseUrl(), { max: 5 });
  const traffic = load(post);
  let killed = 0;
  for (let round = 0; round < 10; round++) {
    await sleep(50);
    const rows = await adminQuery<{ ok: boolean }>(
      "SELECT pg_terminate_backend(pid) AS ok FROM pg_stat_activity WHERE application_name = $1",
      [`leak-lab:${pool.name}`],
    );
    killed += rows.filter((row) => row.ok).length;
  }
  await sleep(200);
  await traffic.stop();
  assert(killed >= 10, `killed ${killed} backends`);
  for (const status of outcomes(traffic.answers)) {
    assert(["200 ok", "500 query failed", "503 database unavailable"].includes(status), status);
  }
  assertEquals(outcomes(traffic.answers.slice(-8)), ["200 ok"], "the last requests succeed");
  const stats = pool.stats();
  assertEquals([stats.active, stats.leaked, stats.waiting], [0, 0, 0]);
  assertEquals(warnings.filter((w) => w.includes("leak detected")), []);
  const backends = await eventually(() => backendsOf(pool.name), (rows) => rows.length === pool.stats().total);
  assertEquals(backends.length, pool.stats().total, "pg_stat_activity agrees with the pool");
  await pool.end();
});

Deno.test("50 requests waiting on an exhausted pool all get 503 within the acquire timeout; reset heals", async () => {
  const { pool, post } = newService(checkpointDatabaseUrl(), { max: 5, acquireTimeoutMs: 500, failEvery: 1 });
  for (let i = 0; i < 5; i++) assertEquals((await post("bad")).status, 500);
  assertEquals(pool.stats().leaked, 5);
  const waiting = Array.from({ length: 50 }, () => post("good"));
  const peak = await eventually(() => pool.stats().waiting, (n) => n === 50);
  const answers = await Promise.all(waiting);
  assertEquals(peak, 50, "all 50 waited");
  assertEquals(outcomes(answers), ["503 pool exhausted"]);
  assertLess(Math.max(...answers.map((a) => a.ms)), 500 + 1_500);
  assertEquals(pool.stats().waiting, 0);
  assertEquals((await post("reset")).status, 200);
  assertEquals(outcomes(await Promise.all(Array.from({ length: 50 }, () => post("good")))), ["500 query failed"]);
  assertEquals([pool.stats().active, pool.stats().leaked], [0, 0]);
  await pool.end();
});

/** An OTLP receiver that accepts connections and never answers. */
function blackHole() {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const held: Deno.Conn[] = [];
  const accepting = (async () => {
    try {
      for await (const conn of listener) held.push(conn);
    } catch {
      // closed
    }
  })();
  return {
    endpoint: `http://127.0.0.1:${(listener.addr as Deno.NetAddr).port}`,
    async close() {
      listener.close();
      await accepting;
      for (const conn of held) conn.close();
    },
  };
}

function failing500() {
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen: () => {} }, async (request) => {
    await request.body?.cancel();
    return new Response("unavailable", { status: 500 });
  });
  return { endpoint: `http://127.0.0.1:${server.addr.port}`, close: () => server.shutdown() };
}

function closedPort() {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const endpoint = `http://127.0.0.1:${(listener.addr as Deno.NetAddr).port}`;
  listener.close();
  return { endpoint, close: () => Promise.resolve() };
}

for (
  const [name, start] of [["down", closedPort], ["black-holed", blackHole], ["answering 500", failing500]] as const
) {
  Deno.test(`an OTLP endpoint ${name}: requests are unaffected, the failure is logged once, SIGTERM stops within the budget`, async () => {
    const otlp = start();
    try {
      const service = await startServiceProcess(ROOT, {
        DATABASE_URL: checkpointDatabaseUrl(),
        PORT: "0",
        POOL_NAME: uniquePoolName("otlp"),
        FAIL_EVERY: "0",
        OTEL_EXPORTER_OTLP_ENDPOINT: otlp.endpoint,
      });
      assert(service.address, service.stdout);
      assertStringIncludes(service.stdout, `exported to ${otlp.endpoint}/v1/traces`);
      const statuses: number[] = [];
      const slowest = { ms: 0 };
      for (let i = 0; i < 200; i++) {
        const started = performance.now();
        const response = await fetch(new URL("api/good", service.address), JSON_POST);
        statuses.push(response.status);
        await response.body?.cancel();
        slowest.ms = Math.max(slowest.ms, performance.now() - started);
        if (i % 50 === 0) await sleep(300); // let the batch processor try to export
      }
      assertEquals(new Set(statuses), new Set([200]));
      assertLess(slowest.ms, 1_000, "no request waits for the exporter");
      const signalled = performance.now();
      const { code, stderr } = await service.stop("SIGTERM");
      const stopMs = performance.now() - signalled;
      assertEquals(code, 0, stderr);
      assertEquals(stderr.match(/Could not export traces to/g)?.length, 1, `reported once:\n${stderr}`);
      assertLess(stopMs, 3_000 + 3_000, `stopped in ${stopMs.toFixed(0)} ms (budget 3 s, plus the process exit)`);
    } finally {
      await otlp.close();
    }
  });
}
