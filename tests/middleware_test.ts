/**
 * leakScope() and withLeakScope() (issue #18) with real Hono apps and a real
 * Deno.serve on 127.0.0.1, over a real Postgres: each request is one scope
 * named by its route's pattern, a leak is reported on it, a 5xx or a throw
 * marks it ERROR, and it continues the caller's trace.
 */
import { assert, assertEquals, assertStringIncludes } from "@std/assert";
import { SpanKind, SpanStatusCode } from "@opentelemetry/api";
import type { ReadableSpan } from "@opentelemetry/sdk-trace-base";
import { Hono } from "hono";
import { leakScope, withLeakScope } from "../lib/middleware.ts";
import { POOL_EVENTS, TracedPool } from "../lib/pool.ts";
import { checkpointDatabaseUrl, uniquePoolName } from "../lib/workshop/checkpoint_database.ts";
import { recordingTracer } from "../lib/workshop/recording_tracer.ts";
import { only, parentOf } from "./support/spans.ts";

const url = checkpointDatabaseUrl();
const TRACE_ID = "4bf92f3577b34da6a3ce929d0e0e4736";
const CALLER_SPAN = "00f067aa0ba902b7";

function tracedPool() {
  const { tracer, exporter } = recordingTracer();
  const pool = new TracedPool({
    connectionString: url,
    name: uniquePoolName("middleware"),
    tracer,
    acquireTimeoutMs: 300,
    log: () => {},
  });
  return { pool, tracer, spans: (): ReadableSpan[] => exporter.getFinishedSpans() };
}

/** An app whose routes leak, fail and throw the ways a real service does. */
function sensorsApp(pool: TracedPool) {
  const app = new Hono();
  app.use(leakScope(pool));
  app.get("/sensors/:id", async (c) => {
    const conn = await pool.acquire();
    const { rows } = await conn.query("SELECT $1::int AS id", [c.req.param("id")]);
    return c.json(rows[0]); // simulate a leak: the connection is never released
  });
  app.get("/healthy/:id", async (c) => {
    await using conn = await pool.acquire();
    return c.json((await conn.query("SELECT 1 AS ok")).rows[0]);
  });
  app.get("/overloaded", (c) => c.text("try later", 503));
  app.get("/boom/:id", () => {
    throw new Error("handler blew up");
  });
  app.get("/teapot", (c) => c.text("short and stout", 418));
  app.use("*", async (_c, next) => await next()); // a trailing middleware: routePath(c, -1) would name it
  return app;
}

Deno.test("leakScope() reports a leaking Hono handler on the scope named by its route pattern", async () => {
  const { pool, spans } = tracedPool();
  const response = await sensorsApp(pool).request("/sensors/42?verbose=1");
  assertEquals(response.status, 200);
  assertEquals(await response.json(), { id: 42 });

  const server = only(spans(), "GET /sensors/:id");
  assertEquals(server.kind, SpanKind.SERVER);
  assertEquals(server.attributes["http.route"], "/sensors/:id");
  assertEquals(server.attributes["url.path"], "/sensors/42");
  assertEquals(server.attributes["url.query"], "verbose=1");
  assertEquals(server.attributes["http.request.method"], "GET");
  assertEquals(server.attributes["http.response.status_code"], 200);
  assert(!spans().some((span) => span.name.includes("/sensors/42")), "no span is named by the raw path");
  const leak = server.events.find((event) => event.name === POOL_EVENTS.leaked);
  assert(leak, "the request's span carries connection_leaked");
  assertEquals(pool.stats().leaked, 1);
  const [report] = pool.leaks();
  assertEquals(report.scope, "GET /sensors/:id");
  assertEquals(report.traceId, server.spanContext().traceId);
  assertEquals(only(spans(), "get_connection").parentSpanContext?.spanId, server.spanContext().spanId);

  assertEquals(pool.reset(), 1);
  await pool.end();
});

Deno.test("leakScope() leaves a request that returns its connection unleaked and UNSET", async () => {
  const { pool, spans } = tracedPool();
  const response = await sensorsApp(pool).request("/healthy/7");
  assertEquals(await response.json(), { ok: 1 });
  const server = only(spans(), "GET /healthy/:id");
  assertEquals(server.status.code, SpanStatusCode.UNSET);
  assertEquals(server.events.filter((event) => event.name === POOL_EVENTS.leaked), []);
  assertEquals(pool.stats().leaked, 0);
  await pool.end();
});

Deno.test("leakScope() marks a 5xx ERROR, a 4xx not, and a thrown handler ERROR with its exception", async () => {
  const { pool, spans } = tracedPool();
  const app = sensorsApp(pool);
  assertEquals((await app.request("/overloaded")).status, 503);
  assertEquals((await app.request("/teapot")).status, 418);
  const thrown = await app.request("/boom/1");
  assertEquals(thrown.status, 500, "Hono answers a throw with 500");
  await thrown.body?.cancel();

  const overloaded = only(spans(), "GET /overloaded");
  assertEquals(overloaded.status, { code: SpanStatusCode.ERROR, message: "HTTP 503" });
  assertEquals(overloaded.attributes["error.type"], "503");
  assertEquals(only(spans(), "GET /teapot").status.code, SpanStatusCode.UNSET);
  const boom = only(spans(), "GET /boom/:id");
  assertEquals(boom.status, { code: SpanStatusCode.ERROR, message: "handler blew up" });
  assertEquals(boom.attributes["error.type"], "Error");
  assertEquals(boom.attributes["http.response.status_code"], 500);
  const exception = boom.events.find((event) => event.name === "exception");
  assertEquals(exception?.attributes?.["exception.message"], "handler blew up");
  await pool.end();
});

Deno.test("leakScope() names a request no route matched by its method alone", async () => {
  const { pool, spans } = tracedPool();
  const response = await sensorsApp(pool).request("/nothing/here", { method: "POST" });
  assertEquals(response.status, 404);
  await response.body?.cancel();
  const [server] = spans();
  assertEquals(server.name, "POST");
  assertEquals(server.attributes["http.route"], undefined);
  assertEquals(server.attributes["url.path"], "/nothing/here");
  await pool.end();
});

Deno.test("leakScope() names a sub-app's route by its whole pattern", async () => {
  const { pool, spans } = tracedPool();
  const api = new Hono();
  api.get("/items/:item", (c) => c.text(c.req.param("item")));
  api.onError((error, c) => c.text(error.message, 500)); // Hono wraps a sub-app with its own onError
  const app = new Hono();
  app.use(leakScope(pool));
  app.route("/api/:tenant", api);
  assertEquals(await (await app.request("/api/acme/items/7")).text(), "7");
  assertEquals(spans().map((span) => span.name), ["GET /api/:tenant/items/:item"]);
  await pool.end();
});

Deno.test("leakScope() continues the caller's trace from its traceparent header", async () => {
  const { pool, spans } = tracedPool();
  const response = await sensorsApp(pool).request("/healthy/1", {
    headers: { traceparent: `00-${TRACE_ID}-${CALLER_SPAN}-01` },
  });
  await response.body?.cancel();
  const server = only(spans(), "GET /healthy/:id");
  assertEquals(server.spanContext().traceId, TRACE_ID);
  assertEquals(parentOf(server), CALLER_SPAN);
  assertEquals(server.kind, SpanKind.SERVER);
  for (const span of spans()) assertEquals(span.spanContext().traceId, TRACE_ID, `${span.name} is in the trace`);
  await pool.end();
});

Deno.test("leakScope() joins a request span that is already active as its INTERNAL child", async () => {
  const { pool, tracer, spans } = tracedPool();
  const app = sensorsApp(pool);
  await tracer.startActiveSpan("GET", { kind: SpanKind.SERVER }, async (request) => {
    // The active span wins over the header: it is already this request's server span.
    const response = await app.request("/healthy/1", { headers: { traceparent: `00-${TRACE_ID}-${CALLER_SPAN}-01` } });
    await response.body?.cancel();
    request.end();
  });
  const outer = only(spans(), "GET");
  const scope = only(spans(), "GET /healthy/:id");
  assertEquals(scope.kind, SpanKind.INTERNAL);
  assertEquals(parentOf(scope), outer.spanContext().spanId);
  assertEquals(scope.spanContext().traceId, outer.spanContext().traceId);
  await pool.end();
});

Deno.test("leakScope() without an SDK still reports the leak on the scope's name", async () => {
  const pool = new TracedPool({ connectionString: url, name: uniquePoolName("middleware-untraced"), log: () => {} });
  const response = await sensorsApp(pool).request("/sensors/5");
  await response.body?.cancel();
  assertEquals(response.headers.get("traceresponse"), null);
  assertEquals(pool.leaks().map((leak) => leak.scope), ["GET /sensors/:id"]);
  assertEquals(pool.reset(), 1);
  await pool.end();
});

Deno.test("withLeakScope() over a real Deno.serve reports a leak on the route's scope, a throw as ERROR", async () => {
  const { pool, spans } = tracedPool();
  const sensor = new URLPattern({ pathname: "/sensors/:id" });
  const handler = async (request: Request) => {
    const match = sensor.exec(request.url);
    if (!match) throw new Error(`no route for ${new URL(request.url).pathname}`);
    const conn = await pool.acquire(); // simulate a leak: never released
    const { rows } = await conn.query("SELECT $1::int AS id", [match.pathname.groups.id]);
    return Response.json(rows[0]);
  };
  const server = Deno.serve(
    { hostname: "127.0.0.1", port: 0, onListen: () => {}, onError: () => new Response("failed", { status: 500 }) },
    withLeakScope(pool, handler, {
      route: (_request, url) => sensor.test(url) ? sensor.pathname : undefined,
      traceResponse: true,
    }),
  );
  try {
    const base = `http://127.0.0.1:${server.addr.port}`;
    const ok = await fetch(`${base}/sensors/9`, { headers: { traceparent: `00-${TRACE_ID}-${CALLER_SPAN}-01` } });
    assertEquals(await ok.json(), { id: 9 });
    const failed = await fetch(`${base}/elsewhere`);
    assertEquals(failed.status, 500);
    await failed.body?.cancel();

    const scope = only(spans(), "GET /sensors/:id");
    assertEquals(scope.spanContext().traceId, TRACE_ID);
    assertEquals(parentOf(scope), CALLER_SPAN);
    assertEquals(scope.attributes["client.address"], "127.0.0.1");
    assertEquals(scope.attributes["server.port"], server.addr.port);
    assertStringIncludes(ok.headers.get("traceresponse") ?? "", `00-${TRACE_ID}-${scope.spanContext().spanId}-01`);
    assertEquals(pool.leaks().map((leak) => leak.scope), ["GET /sensors/:id"]);
    assert(scope.events.some((event) => event.name === POOL_EVENTS.leaked));

    const unrouted = only(spans(), "GET");
    assertEquals(unrouted.status, { code: SpanStatusCode.ERROR, message: "no route for /elsewhere" });
    assertEquals(unrouted.attributes["url.path"], "/elsewhere");
  } finally {
    await server.shutdown();
    pool.reset();
    await pool.end();
  }
});
