import {
  assert,
  assertEquals,
  assertGreaterOrEqual,
  assertInstanceOf,
  assertLess,
  assertMatch,
  assertNotMatch,
  assertStringIncludes,
  assertThrows,
} from "@std/assert";
import { SpanKind, SpanStatusCode } from "@opentelemetry/api";
import type { ReadableSpan } from "@opentelemetry/sdk-trace-base";
import { openDatabase } from "../lib/database.ts";
import { FaultSchedule } from "../lib/demo/fault_schedule.ts";
import { LEAK_SEARCH_TAGS, TracedPool } from "../lib/pool.ts";
import { redactUrl } from "../lib/util/redact.ts";
import { jaegerSearchUrl, setupTelemetry } from "../lib/telemetry.ts";
import { createApp } from "../lib/service/app.ts";
import { ConfigError, readConfig } from "../lib/service/config.ts";
import { tracedHandlers } from "../lib/service/demo_pool.ts";
import { startService, StartupError } from "../lib/service/server.ts";
import { backendsOf, checkpointDatabaseUrl, uniquePoolName } from "../lib/workshop/checkpoint_database.ts";
import { only, parentOf } from "./support/spans.ts";
import { startServiceProcess } from "./support/service_process.ts";
import { eventually } from "../lib/util/eventually.ts";

const url = checkpointDatabaseUrl();
const password = decodeURIComponent(new URL(url).password);
const telemetry = await setupTelemetry({ otlpEndpoint: false, log: () => {} });
/** Every response body the tests saw, checked at the end for the password. */
const bodies: string[] = [];

interface Reply {
  status: number;
  headers: Headers;
  // deno-lint-ignore no-explicit-any
  body: any;
  ms: number;
}

function newService(options: { failEvery?: number; failRate?: number; max?: number; acquireTimeoutMs?: number } = {}) {
  const warnings: string[] = [];
  const pool = new TracedPool({
    connectionString: url,
    name: uniquePoolName("service-test"),
    max: options.max ?? 5,
    acquireTimeoutMs: options.acquireTimeoutMs ?? 250,
    log: (message) => warnings.push(message),
  });
  const faults = new FaultSchedule({ failEvery: options.failEvery ?? 2, failRate: options.failRate, seed: 7 });
  const app = createApp({
    pool,
    handlers: tracedHandlers(pool, faults),
    faults,
    spans: telemetry.spans,
    about: { database: redactUrl(url), databaseSource: "DATABASE_URL" },
  });
  const call = async (method: string, path: string, init: RequestInit = {}): Promise<Reply> => {
    const started = performance.now();
    // POSTs as a script sends them: JSON (lib/service/browser_guard.ts refuses other types without a same origin).
    const headers = method === "POST" ? { "content-type": "application/json", ...init.headers } : init.headers;
    const response = await app(new Request(`http://127.0.0.1:9000${path}`, { method, ...init, headers }));
    const text = await response.text();
    bodies.push(text);
    const ms = performance.now() - started;
    const isJson = response.headers.get("content-type")?.startsWith("application/json");
    return { status: response.status, headers: response.headers, body: isJson ? JSON.parse(text) : text, ms };
  };
  return { pool, faults, call, warnings };
}

function spansOf(traceId: string): ReadableSpan[] {
  return telemetry.spans.trace(traceId);
}

Deno.test("POST /api/bad leaks one connection per failed query until the pool is exhausted, then 503 within the acquire timeout", async () => {
  const { pool, call } = newService({ failEvery: 2, max: 5, acquireTimeoutMs: 250 });
  for (let request = 1; request <= 10; request++) {
    const { status, body } = await call("POST", "/api/bad");
    const leaked = Math.floor(request / 2);
    assertEquals(status, request % 2 === 0 ? 500 : 200, `request ${request}`);
    assertEquals(body.outcome, request % 2 === 0 ? "query failed" : "ok");
    assertEquals(body.pool, pool.stats(), "the response carries the stats after the request");
    assertEquals([body.pool.active, body.pool.available, body.pool.leaked], [leaked, 5 - leaked, leaked]);
    if (status === 500) assertEquals(body.error, "canceling statement due to statement timeout");
  }
  assertEquals((await call("GET", "/api/pool")).body, {
    max: 5,
    total: 5,
    idle: 0,
    active: 5,
    available: 0,
    leaked: 5,
    waiting: 0,
  });
  for (const endpoint of ["/api/bad", "/api/good", "/api/bad"]) {
    const { status, body, ms } = await call("POST", endpoint);
    assertEquals(status, 503, endpoint);
    assertEquals(body.ok, false);
    assertEquals(body.outcome, "pool exhausted");
    assertMatch(body.error, /^Connection pool exhausted: pool "service-test-\w+" had no connection available/);
    assertStringIncludes(body.error, "lib/demo/query_handlers.ts", "the message names who holds the connections");
    assertGreaterOrEqual(ms, 240);
    assertLess(ms, 250 + 2_000, "bounded by acquireTimeoutMs, not hung");
    assertEquals(body.pool.waiting, 0);
  }
  await pool.end();
});

Deno.test("POST /api/reset reclaims leaked connections and the service heals", async () => {
  const { pool, call } = newService({ failEvery: 1, max: 3 });
  for (let i = 0; i < 3; i++) assertEquals((await call("POST", "/api/bad")).status, 500);
  assertEquals((await call("POST", "/api/good")).status, 503);

  const reset = await call("POST", "/api/reset");
  assertEquals(reset.status, 200);
  assertEquals(reset.body.reclaimed, 3);
  assertEquals(reset.body.pool, { max: 3, total: 0, idle: 0, active: 0, available: 3, leaked: 0, waiting: 0 });
  assertEquals((await call("POST", "/api/reset", { body: "{}" })).body.reclaimed, 0, "a second reset finds nothing");

  for (let i = 0; i < 5; i++) {
    const { status, body } = await call("POST", "/api/good");
    assertEquals(status, 500, "every query still fails (FAIL_EVERY=1)...");
    assertEquals([body.pool.active, body.pool.leaked], [0, 0], "...but the good endpoint returns each connection");
  }
  await pool.end();
});

Deno.test("POST /api/good holds 1,000 requests at 30 % faults with 0 leaks", async () => {
  const { pool, call, warnings } = newService({ failRate: 0.3, max: 5, acquireTimeoutMs: 5_000 });
  const expected = new FaultSchedule({ failRate: 0.3, seed: 7 });
  let expectedFailures = 0;
  for (let i = 0; i < 1_000; i++) if (expected.next()) expectedFailures++;

  const statuses = new Map<number, number>();
  let next = 0;
  await Promise.all(Array.from({ length: 16 }, async () => {
    while (next < 1_000) {
      next++;
      const { status } = await call("POST", "/api/good");
      statuses.set(status, (statuses.get(status) ?? 0) + 1);
    }
  }));
  assertEquals(Object.fromEntries(statuses), { 200: 1_000 - expectedFailures, 500: expectedFailures });
  assert(expectedFailures > 250 && expectedFailures < 350, `about 30 % failed: ${expectedFailures}`);
  const stats = (await call("GET", "/api/pool")).body;
  assertEquals([stats.active, stats.leaked, stats.waiting], [0, 0, 0]);
  assertEquals(warnings, [], "no leak was reported");
  await pool.end();
});

Deno.test("the app's pg_stat_activity rows match GET /api/pool, before and after reset", async () => {
  const { pool, call } = newService({ failEvery: 2, max: 5 });
  for (let i = 0; i < 6; i++) await call("POST", "/api/bad"); // ok, fail, ok, fail...: 3 leaked
  assertEquals((await call("POST", "/api/good")).status, 200); // opens a 4th connection, returned idle
  const stats = (await call("GET", "/api/pool")).body;
  assertEquals([stats.total, stats.active, stats.idle, stats.leaked], [4, 3, 1, 3]);
  const backends = await backendsOf(pool.name);
  assertEquals(backends.length, stats.total, `application_name leak-lab:${pool.name}`);
  const pids = new Set(backends.map((b) => b.pid));
  for (const leak of pool.leaks()) assert(pids.has(leak.pid), `leaked pid ${leak.pid} is a live backend`);

  await call("POST", "/api/reset");
  const after = (await call("GET", "/api/pool")).body;
  assertEquals([after.total, after.active, after.leaked], [1, 0, 0]);
  // The server notices closed sockets asynchronously.
  const remaining = await eventually(() => backendsOf(pool.name), (rows) => rows.length === after.total);
  assertEquals(remaining.length, after.total, "reclaimed connections are gone from the server");
  await pool.end();
});

Deno.test("bad input gets a 4xx JSON message and the service keeps serving", async () => {
  const { pool, call } = newService({ failEvery: 0 });
  const cases: [string, string, RequestInit, number, string][] = [
    ["GET", "/nope", {}, 404, "Nothing is served at /nope"],
    ["GET", "/api/bad", {}, 405, "/api/bad accepts POST, not GET"],
    ["GET", "/api/reset", {}, 405, "/api/reset accepts POST, not GET"],
    ["POST", "/api/pool", {}, 405, "/api/pool accepts GET, HEAD, not POST"],
    ["DELETE", "/api/good", {}, 405, "accepts POST, not DELETE"],
    ["POST", "/api/bad", { body: "{not json" }, 400, "The request body is not valid JSON"],
    ["POST", "/api/good", { body: "[1,2]" }, 400, "must be a JSON object, not an array"],
    ["POST", "/api/reset", { body: '{"force":true}' }, 400, 'Unknown field(s) in the request body: "force"'],
    ["POST", "/api/good", { body: "x".repeat(5_000) }, 413, "accepts at most 1024"],
    ["GET", "/api/traces?limit=0", {}, 400, "'limit' must be a whole number from 1 to 500"],
    ["GET", "/api/traces?all=yes", {}, 400, "'all' must be true or false"],
    ["GET", "/api/traces/xyz", {}, 400, "is not a trace id"],
    ["GET", `/api/traces/${"a".repeat(32)}?format=pdf`, {}, 400, "'format' must be json or html"],
    ["GET", `/api/traces/${"a".repeat(32)}`, {}, 404, "No spans of trace"],
  ];
  for (const [method, path, init, status, message] of cases) {
    const reply = await call(method, path, init);
    assertEquals(reply.status, status, `${method} ${path}`);
    assertEquals(reply.body.ok, false);
    assertStringIncludes(reply.body.error, message);
    if (status === 405) assertEquals(reply.headers.get("allow"), path === "/api/pool" ? "GET, HEAD" : "POST");
  }
  assertEquals(pool.stats().active + pool.stats().leaked, 0, "no bad request touched the pool");
  assertEquals((await call("POST", "/api/good")).status, 200, "still serving");
  assertEquals(
    (await call("POST", "/api/good", { body: "{}", headers: { "content-type": "application/json" } })).status,
    200,
  );
  await pool.end();
});

Deno.test("trace ids in /api/bad and /api/good responses are listed by /api/traces and shown by /api/traces/:id", async () => {
  const { pool, call } = newService({ failEvery: 2 });
  const bad = await call("POST", "/api/bad");
  const good = await call("POST", "/api/good");
  for (const reply of [bad, good]) {
    assertMatch(reply.body.traceId, /^[0-9a-f]{32}$/);
    assertEquals(reply.body.traceUrl.endsWith(`/trace/${reply.body.traceId}`), true);
    assertMatch(reply.headers.get("traceresponse")!, new RegExp(`^00-${reply.body.traceId}-[0-9a-f]{16}-01$`));
  }
  const { traces } = (await call("GET", "/api/traces")).body;
  const listed = new Map(traces.map((t: { traceId: string }) => [t.traceId, t]));
  assertEquals((listed.get(bad.body.traceId) as { rootName: string }).rootName, "POST /api/bad");
  assertEquals((listed.get(good.body.traceId) as { rootName: string }).rootName, "POST /api/good");
  assertEquals(
    traces.some((t: { rootName: string }) => t.rootName.startsWith("GET")),
    false,
    "GETs only with all=true",
  );
  const all = (await call("GET", "/api/traces?all=true&limit=500")).body.traces;
  assert(all.some((t: { rootName: string }) => t.rootName === "GET /api/traces"));

  const shown = (await call("GET", `/api/traces/${good.body.traceId}`)).body;
  assertEquals(shown.spans.map((s: { name: string }) => s.name).slice(0, 2), ["POST /api/good", "good_query_no_leak"]);
  const html = await call("GET", `/api/traces/${good.body.traceId}?format=html`);
  assertEquals(html.headers.get("content-type"), "text/html; charset=utf-8");
  assertStringIncludes(html.body, "leak-lab-waterfall");
  assertStringIncludes(html.body, "connection_returned_safely");
  await pool.end();
});

Deno.test("a failed POST /api/bad traces request → bad_query_with_leak → get_connection, database.query (error), connection_leaked", async () => {
  const { pool, call } = newService({ failEvery: 1 });
  const { body } = await call("POST", "/api/bad", { headers: { "user-agent": "leak-lab-test/1" } });
  const spans = spansOf(body.traceId);
  const server = only(spans, "POST /api/bad");
  const handler = only(spans, "bad_query_with_leak");
  const acquire = only(spans, "get_connection");
  const query = only(spans, "database.query");
  assertEquals(parentOf(server), undefined);
  assertEquals(server.kind, SpanKind.SERVER);
  assertEquals(parentOf(handler), server.spanContext().spanId);
  assertEquals(parentOf(acquire), handler.spanContext().spanId);
  assertEquals(parentOf(query), handler.spanContext().spanId);
  assertEquals(spans.filter((s) => s.name === "return_connection"), [], "the connection never came back");

  const a = server.attributes;
  assertEquals([a["http.request.method"], a["url.path"], a["http.route"]], ["POST", "/api/bad", "/api/bad"]);
  assertEquals([a["http.response.status_code"], a["error.type"]], [500, "500"]);
  assertEquals([a["server.address"], a["server.port"], a["url.scheme"]], ["127.0.0.1", 9000, "http"]);
  assertEquals(a["user_agent.original"], "leak-lab-test/1");
  assertEquals(server.status.code, SpanStatusCode.ERROR);

  assertEquals(query.status.code, SpanStatusCode.ERROR);
  assertEquals(query.attributes["db.response.status_code"], "57014");
  assertEquals(query.events.map((e) => e.name), ["query_error"]);
  const leaked = handler.events.find((e) => e.name === "connection_leaked");
  assertEquals(leaked?.attributes?.leaked_connections, 1);
  assertEquals(handler.status.code, SpanStatusCode.ERROR);

  const good = await call("POST", "/api/good");
  const goodSpans = spansOf(good.body.traceId);
  const goodHandler = only(goodSpans, "good_query_no_leak");
  assertEquals(parentOf(only(goodSpans, "return_connection")), goodHandler.spanContext().spanId);
  assertEquals(goodHandler.events.filter((e) => e.name === "connection_leaked"), []);
  await pool.end();
});

Deno.test("an incoming W3C traceparent becomes the parent of the request span", async () => {
  const { pool, call } = newService({ failEvery: 0 });
  const traceId = "4bf92f3577b34da6a3ce929d0e0e4736";
  const parentId = "00f067aa0ba902b7";
  const reply = await call("POST", "/api/good", { headers: { traceparent: `00-${traceId}-${parentId}-01` } });
  assertEquals(reply.body.traceId, traceId);
  assertMatch(reply.headers.get("traceresponse")!, new RegExp(`^00-${traceId}-[0-9a-f]{16}-01$`));
  const server = only(spansOf(traceId), "POST /api/good");
  assertEquals(parentOf(server), parentId);
  assertEquals(server.parentSpanContext?.isRemote, true);
  await pool.end();
});

Deno.test("readConfig() applies defaults and rejects malformed settings with a ConfigError naming the variable", () => {
  const defaults = readConfig(new Map());
  assertEquals([defaults.host, defaults.port, defaults.databaseUrl], ["127.0.0.1", 9000, undefined]);
  assertEquals(defaults.pool, {
    name: "demo",
    max: 5,
    acquireTimeoutMs: 2_000,
    leakThresholdMs: 30_000,
    captureAcquireSites: "always",
  });
  assertEquals(defaults.faults.description, "every 2nd query fails");
  assertEquals(
    readConfig(new Map([["FAIL_RATE", "0.3"], ["FAIL_SEED", "1"]])).faults.description,
    "30% of queries fail (seed 1)",
  );
  const cases: [string, string, string][] = [
    ["PORT", "abc", `PORT must be a whole number from 0 to 65535 (0 picks a free port): current value is "abc"`],
    ["PORT", "70000", `current value is "70000"`],
    ["FAIL_EVERY", "-1", `FAIL_EVERY must be a whole number from 0 to 1000000 (1 = every query fails, 0 = none)`],
    ["FAIL_RATE", "2", `FAIL_RATE must be a fraction from 0 to 1`],
    ["POOL_MAX", "0", `POOL_MAX must be a whole number from 1 to 1000`],
    ["ACQUIRE_TIMEOUT_MS", "1.5", `ACQUIRE_TIMEOUT_MS must be a whole number`],
    ["CAPTURE_ACQUIRE_SITES", "often", `CAPTURE_ACQUIRE_SITES must be always, adaptive or never`],
  ];
  for (const [variable, value, message] of cases) {
    const error = assertThrows(() => readConfig(new Map([[variable, value]])), ConfigError, message);
    assertEquals([error.name, error.variable], ["ConfigError", variable]);
  }
});

Deno.test("startService() serves the page and the API over a real socket on 127.0.0.1 port 0", async () => {
  const lines: string[] = [];
  const config = readConfig(new Map([["PORT", "0"], ["POOL_NAME", uniquePoolName("socket")], ["FAIL_EVERY", "0"]]));
  const database = await openDatabase({ url });
  const service = await startService(config, { telemetry, database, log: (line) => lines.push(line), warn: () => {} });
  try {
    assertMatch(service.url, /^http:\/\/127\.0\.0\.1:\d+\/$/);
    assert(service.port > 0);
    assertStringIncludes(lines[0], `Leak Lab demo service: ${service.url}`);
    assertStringIncludes(lines[0], `database  ${database.displayUrl} (DATABASE_URL)`);

    const page = await fetch(service.url);
    const html = await page.text();
    bodies.push(html);
    for (
      const label of [
        "Test Bad Endpoint",
        "Test 10 Times (Exhaust Pool)",
        "Test Good Endpoint",
        "Test 10 Times (No Problem)",
        "Reset Pool",
      ]
    ) {
      assertStringIncludes(html, label);
    }
    for (
      const [path, type] of [["app.js", "text/javascript"], ["style.css", "text/css"], [
        "vendor/plotly.min.js",
        "text/javascript",
      ]]
    ) {
      const asset = await fetch(new URL(path, service.url));
      const bytes = await asset.bytes();
      assertEquals(asset.status, 200, path);
      assertStringIncludes(asset.headers.get("content-type")!, type);
      assert(bytes.length > (path.startsWith("vendor") ? 1_000_000 : 1_000), `${path} has its content`);
    }

    const response = await fetch(new URL("api/bad", service.url), {
      method: "POST",
      headers: { "content-type": "application/json" },
    });
    const body = await response.json();
    assertEquals([response.status, body.ok], [200, true]);
    const server = only(spansOf(body.traceId), "POST /api/bad");
    assertEquals([server.attributes["server.address"], server.attributes["server.port"]], ["127.0.0.1", service.port]);
    assertEquals(server.attributes["client.address"], "127.0.0.1");
    assertStringIncludes(lines.join("\n"), `POST /api/bad → 200`);
  } finally {
    await service.close();
  }
  await fetch(service.url).then((r) => r.body?.cancel(), (error) => assertInstanceOf(error, TypeError));
  assertEquals(service.pool.stats().total, 0, "the pool was ended");
});

Deno.test("startService() fails with a StartupError when the port is taken, and cleans up", async () => {
  using taken = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const config = readConfig(new Map([["PORT", String(taken.addr.port)], ["POOL_NAME", uniquePoolName("taken")]]));
  const database = await openDatabase({ url });
  let error: unknown;
  await startService(config, { telemetry, database, log: () => {} }).catch((e) => (error = e));
  assertInstanceOf(error, StartupError);
  assertStringIncludes(error.message, `Port ${taken.addr.port} on 127.0.0.1 is already in use`);
  assertStringIncludes(error.message, "set PORT to another port");
});

async function runMain(env: Record<string, string>) {
  const output = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", "main.ts"],
    cwd: new URL("..", import.meta.url),
    env: { OTEL_EXPORTER_OTLP_ENDPOINT: "", ...env },
    stdin: "null",
  }).output();
  const decode = (bytes: Uint8Array) => new TextDecoder().decode(bytes);
  return { code: output.code, stdout: decode(output.stdout), stderr: decode(output.stderr) };
}

Deno.test("main.ts prints one clear line and exits 1 on bad settings, a bad DATABASE_URL, or Postgres down", async () => {
  const cases: [Record<string, string>, string][] = [
    [{ PORT: "nine" }, `PORT must be a whole number from 0 to 65535`],
    [{ FAIL_EVERY: "often" }, `FAIL_EVERY must be a whole number`],
    [
      { DATABASE_URL: "mysql://app:hunter2@db/shop" },
      `DATABASE_URL is not a valid Postgres URL: "mysql://app:***@db/shop"`,
    ],
    [
      { DATABASE_URL: "postgres://app:hunter2@127.0.0.1:1/shop" },
      `Cannot reach Postgres at postgres://app:***@127.0.0.1:1/shop`,
    ],
  ];
  for (const [env, message] of cases) {
    const { code, stdout, stderr } = await runMain({ PORT: "0", ...env });
    assertEquals(code, 1, JSON.stringify(env));
    assertStringIncludes(stderr, `Leak Lab demo service did not start: ${message}`);
    assertEquals(stderr.trim().split("\n").length, 1, `one line, no stack: ${stderr}`);
    assertNotMatch(stdout + stderr, /hunter2/);
  }
});

Deno.test("main.ts stops on SIGTERM: finishes, ends the pool and exits 0", async () => {
  const poolName = uniquePoolName("sigterm");
  const service = await startServiceProcess(new URL("..", import.meta.url), {
    DATABASE_URL: url,
    PORT: "0",
    POOL_NAME: poolName,
    OTEL_EXPORTER_OTLP_ENDPOINT: "",
  });
  assert(service.address, `the banner names the URL: ${service.stdout}`);
  const response = await fetch(new URL("api/bad", service.address), {
    method: "POST",
    headers: { "content-type": "application/json" },
  });
  assertEquals(response.status, 200);
  await response.body?.cancel();
  assertEquals((await backendsOf(poolName)).length, 1);

  const { code, stdout, stderr } = await service.stop("SIGTERM");
  assertEquals(code, 0, stderr);
  assertStringIncludes(stdout, "SIGTERM: stopping");
  assertStringIncludes(stdout, "Stopped.");
  const backends = await eventually(() => backendsOf(poolName), (rows) => rows.length === 0);
  assertEquals(backends, [], "the pool's connections were closed");
});

Deno.test("trace and leak-search links are offered only when traces reach a Jaeger", async () => {
  const pool = new TracedPool({ connectionString: url, name: uniquePoolName("links"), log: () => {} });
  const faults = new FaultSchedule({ failEvery: 1 });
  const handlers = tracedHandlers(pool, faults);
  try {
    for (const exportingTo of [undefined, "http://127.0.0.1:4318/v1/traces"]) {
      const app = createApp({
        pool,
        handlers,
        faults,
        spans: telemetry.spans,
        about: { exportingTo, serviceName: "leak-lab", jaegerUi: "http://localhost:16686" },
      });
      const info = await (await app(new Request("http://127.0.0.1:9000/api/info"))).json();
      const bad = await (await app(
        new Request("http://127.0.0.1:9000/api/bad", {
          method: "POST",
          headers: { "content-type": "application/json" },
        }),
      )).json();
      const html = await (await app(new Request(`http://127.0.0.1:9000/api/traces/${bad.traceId}?format=html`)))
        .text();
      if (exportingTo) {
        assertEquals(
          info.prometheus.leakSearch,
          jaegerSearchUrl("leak-lab", LEAK_SEARCH_TAGS, "http://localhost:16686"),
        );
        assertStringIncludes(html, `href="http://localhost:16686/trace/${bad.traceId}"`);
      } else {
        assertEquals(info.prometheus.leakSearch, null, "no search in a Jaeger that receives nothing");
        assertNotMatch(html, /href=/, "the waterfall's heading links nowhere");
      }
      assertStringIncludes(html, "⚑ leak");
      pool.reset();
    }
  } finally {
    await pool.end();
  }
});

Deno.test("no response body contains the database password", async () => {
  const { pool, call } = newService();
  const info = (await call("GET", "/api/info")).body;
  assertEquals(info.database, redactUrl(url));
  assertEquals(info.faults, "every 2nd query fails");
  assertEquals(info.jaeger.exporting, false);
  assert(bodies.length > 1_000, `checked ${bodies.length} bodies`);
  if (password) {
    assertStringIncludes(info.database, "***");
    for (const body of bodies) assertEquals(body.includes(password), false);
  } else {
    console.warn("DATABASE_URL has no password: the password check had nothing to find");
  }
  await pool.end();
});
