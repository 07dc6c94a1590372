import {
  assert,
  assertEquals,
  assertGreater,
  assertInstanceOf,
  assertMatch,
  assertNotMatch,
  assertRejects,
  assertStringIncludes,
  assertThrows,
} from "@std/assert";
import { ProxyTracerProvider, SpanStatusCode } from "@opentelemetry/api";
import { BasicTracerProvider, SimpleSpanProcessor } from "@opentelemetry/sdk-trace-base";
import { LeaseReleasedError, PoolEndedError, PoolExhaustedError, TracedPool } from "../lib/pool.ts";
import { DatabaseConnectionError } from "../lib/database.ts";
import { adminQuery, backendsOf, checkpointDatabaseUrl, uniquePoolName } from "../lib/workshop/checkpoint_database.ts";
import { recordingTracer } from "../lib/workshop/recording_tracer.ts";
import { only, parentOf } from "./support/spans.ts";
import { eventually } from "../lib/util/eventually.ts";

const url = checkpointDatabaseUrl();
const FAILING_QUERY = "SELECT 1 / 0"; // division_by_zero, SQLSTATE 22012

function newPool(options: Partial<ConstructorParameters<typeof TracedPool>[0]> = {}) {
  const logs: string[] = [];
  const pool = new TracedPool({
    connectionString: url,
    name: uniquePoolName("pool-test"),
    acquireTimeoutMs: 300,
    log: (message) => logs.push(message),
    ...options,
  });
  return { pool, logs };
}

Deno.test("new TracedPool() rejects bad options with a RangeError naming the option and value", () => {
  const cases: [Record<string, unknown>, string][] = [
    [{ max: 0 }, "Cannot create TracedPool as 'max' must be a positive integer: current value is 0"],
    [{ acquireTimeoutMs: -1 }, "'acquireTimeoutMs' must be a positive integer: current value is -1"],
    [{ leakThresholdMs: 1.5 }, "'leakThresholdMs' must be a non-negative integer: current value is 1.5"],
    [{ historySize: 0 }, "'historySize' must be a positive integer: current value is 0"],
    [{ name: "" }, "'name' must be a non-empty string"],
  ];
  for (const [bad, message] of cases) {
    assertThrows(() => new TracedPool({ connectionString: url, ...bad }), RangeError, message);
  }
  const error = assertThrows(
    () => new TracedPool({ connectionString: "mysql://app:hunter2@db/shop" }),
    RangeError,
    `'connectionString' must be a postgres:// URL: current value is "mysql://app:***@db/shop"`,
  );
  assertNotMatch(error.message, /hunter2/);
});

Deno.test("pool.acquire() and lease.release() move the counters one step at a time", async () => {
  const { pool } = newPool();
  assertEquals(pool.stats(), { max: 5, total: 0, idle: 0, active: 0, available: 5, leaked: 0, waiting: 0 });
  const first = await pool.acquire();
  assertEquals(pool.stats(), { max: 5, total: 1, idle: 0, active: 1, available: 4, leaked: 0, waiting: 0 });
  const second = await pool.acquire();
  assertEquals(pool.stats(), { max: 5, total: 2, idle: 0, active: 2, available: 3, leaked: 0, waiting: 0 });
  first.release();
  assertEquals(pool.stats(), { max: 5, total: 2, idle: 1, active: 1, available: 4, leaked: 0, waiting: 0 });
  second.release();
  assertEquals(pool.stats(), { max: 5, total: 2, idle: 2, active: 0, available: 5, leaked: 0, waiting: 0 });
  assertEquals(pool.history().map((s) => [s.change, s.active]), [
    ["acquire", 1],
    ["acquire", 2],
    ["release", 1],
    ["release", 0],
  ]);
  await pool.end();
});

Deno.test("pool.stats() counts queued acquires as waiting", async () => {
  const { pool } = newPool({ max: 1, acquireTimeoutMs: 2_000 });
  const holder = await pool.acquire();
  const queued = pool.acquire();
  await new Promise((resolve) => setTimeout(resolve, 20));
  assertEquals(pool.stats().waiting, 1);
  holder.release();
  const next = await queued;
  assertEquals(pool.stats().waiting, 0);
  next.release();
  await pool.end();
});

Deno.test("await using returns the connection even when the body throws", async () => {
  const { pool } = newPool();
  await assertRejects(
    async () => {
      await using conn = await pool.acquire();
      await conn.query(FAILING_QUERY);
    },
    Error,
    "division by zero",
  );
  assertEquals(pool.stats().active, 0);
  assertEquals(pool.stats().idle, 1);
  await pool.end();
});

Deno.test("pool.scope() traces acquire, query and release as children of the scope span", async () => {
  const { tracer, exporter } = recordingTracer();
  const { pool } = newPool({ tracer });
  const rows = await pool.scope("list_sensors", async () => {
    await using conn = await pool.acquire();
    return (await conn.query("SELECT id FROM sensors ORDER BY id LIMIT $1", [3])).rows;
  });
  assertEquals(rows, [{ id: 1 }, { id: 2 }, { id: 3 }]);
  const spans = exporter.getFinishedSpans();
  const scope = only(spans, "list_sensors");
  const acquire = only(spans, "get_connection");
  const query = only(spans, "database.query");
  const release = only(spans, "return_connection");
  for (const child of [acquire, query, release]) {
    assertEquals(parentOf(child), scope.spanContext().spanId, `${child.name} should be a child of the scope`);
    assertEquals(child.spanContext().traceId, scope.spanContext().traceId);
  }
  assertEquals(acquire.events.map((e) => e.name), ["connection_acquired"]);
  assertEquals(acquire.events[0].attributes?.["pool.active"], 1);
  assertEquals(acquire.events[0].attributes?.["pool.available"], 4);
  assertEquals(release.events.map((e) => e.name), ["connection_returned_safely"]);
  assertEquals(release.events[0].attributes?.["pool.active"], 0);
  const database = new URL(url);
  assertEquals(query.attributes, {
    "db.system.name": "postgresql",
    "db.namespace": decodeURIComponent(database.pathname.slice(1)),
    "server.address": database.hostname,
    "server.port": Number(database.port || 5432),
    "db.query.text": "SELECT id FROM sensors ORDER BY id LIMIT $1",
  });
  assertEquals(scope.events.length, 0, "a scope that returns its connection has no leak event");
  await pool.end();
});

Deno.test("lease.query() marks a failed query's span as an error with its SQLSTATE", async () => {
  const { tracer, exporter } = recordingTracer();
  const { pool } = newPool({ tracer });
  await assertRejects(() => pool.query(FAILING_QUERY), Error, "division by zero");
  const query = only(exporter.getFinishedSpans(), "database.query");
  assertEquals(query.status.code, SpanStatusCode.ERROR);
  assertEquals(query.status.message, "division by zero");
  assertEquals(query.attributes["db.response.status_code"], "22012");
  assertEquals(query.attributes["error.type"], "22012");
  assertEquals(query.events.map((e) => e.name), ["query_error"]);
  assertEquals(pool.stats().active, 0, "pool.query() always returns its connection");
  await pool.end();
});

Deno.test("pool.scope() marks a lease still out at its end as leaked, with a connection_leaked event", async () => {
  const { tracer, exporter } = recordingTracer();
  const { pool, logs } = newPool({ tracer, captureAcquireSites: "always" });
  let leakedLease: Awaited<ReturnType<typeof pool.acquire>> | undefined;
  await assertRejects(() =>
    pool.scope("bad_query_with_leak", async () => {
      leakedLease = await pool.acquire(); // the acquire site reported below is this line
      await leakedLease.query(FAILING_QUERY);
      leakedLease.release();
    })
  );
  assertEquals(pool.stats(), { max: 5, total: 1, idle: 0, active: 1, available: 4, leaked: 1, waiting: 0 });
  const spans = exporter.getFinishedSpans();
  const scope = only(spans, "bad_query_with_leak");
  assertEquals(scope.status.code, SpanStatusCode.ERROR);
  assertEquals(spans.filter((s) => s.name === "return_connection").length, 0, "no connection was returned");
  const leak = scope.events.find((e) => e.name === "connection_leaked");
  assert(leak, "the scope span carries connection_leaked");
  assertEquals(leak.attributes?.leaked_connections, 1);
  assertEquals(leak.attributes?.["lease.id"], leakedLease!.id);
  assertMatch(String(leak.attributes?.["lease.acquire_site"]), /^tests\/pool_test\.ts:\d+:\d+$/);
  assertStringIncludes(String(leak.attributes?.["code.stacktrace"]), "pool_test.ts");

  const [report] = pool.leaks();
  assertEquals(report.leaseId, leakedLease!.id);
  assertEquals(report.traceId, only(spans, "get_connection").spanContext().traceId);
  assertEquals(report.spanId, only(spans, "get_connection").spanContext().spanId);
  assertMatch(report.site, /^tests\/pool_test\.ts:\d+:\d+$/);
  assertStringIncludes(logs.join("\n"), `connection #${leakedLease!.id}`);

  leakedLease!.release(); // late, but returned: no longer leaked
  assertEquals(pool.stats().leaked, 0);
  assertEquals(pool.leaks(), []);
  assertStringIncludes(logs.join("\n"), "(unleaked)");
  await pool.end();
});

Deno.test("pool.acquire() throws PoolExhaustedError naming the holders after 5 leaks in a pool of 5", async () => {
  const { pool } = newPool({ max: 5, acquireTimeoutMs: 200, captureAcquireSites: "always" });
  const leakOne = () =>
    pool.scope("bad_query_with_leak", async () => {
      const conn = await pool.acquire();
      await conn.query(FAILING_QUERY);
      conn.release();
    });
  const outcomes: string[] = [];
  for (let request = 1; request <= 10; request++) {
    try {
      await leakOne();
    } catch (error) {
      outcomes.push(error instanceof PoolExhaustedError ? "exhausted" : "query failed");
    }
    if (request <= 5) assertEquals(pool.stats().leaked, request, `after request ${request}`);
  }
  assertEquals(outcomes, [...Array(5).fill("query failed"), ...Array(5).fill("exhausted")]);
  const error = await assertRejects(() => pool.acquire(), PoolExhaustedError);
  assertEquals(error.name, "PoolExhaustedError");
  assertStringIncludes(error.message, `Connection pool exhausted: pool "${pool.name}"`);
  assertStringIncludes(error.message, "(total=5, active=5, idle=0, waiting=0, leaked=5)");
  assertMatch(
    error.message,
    /Holders, leaked first: #1 \(pid \d+\) for \d+\.\ds from tests\/pool_test\.ts:\d+:\d+ \(leaked\); #2 /,
  );
  assertStringIncludes(error.message, "finally");
  assertEquals(error.holders.map((h) => [h.leaseId, h.leaked]), [[1, true], [2, true], [3, true], [4, true], [
    5,
    true,
  ]]);
  assertEquals(error.stats.leaked, 5);
  assertGreater(error.waitedMs, 150);
  assertInstanceOf(error.cause, Error);
  await pool.end();
});

Deno.test("PoolExhaustedError names every leaked holder before busy ones, up to maxReportedHolders", async () => {
  const { pool } = newPool({ max: 4, acquireTimeoutMs: 100, maxReportedHolders: 3 });
  const busy = await pool.acquire(); // the oldest holder, but not leaked
  await pool.scope("leaks", async () => {
    await pool.acquire();
    await pool.acquire();
  });
  const alsoBusy = await pool.acquire();
  const error = await assertRejects(() => pool.acquire(), PoolExhaustedError);
  assertEquals(error.holders.map((h) => [h.leaseId, h.leaked]), [[2, true], [3, true], [1, false]]);
  assertStringIncludes(error.message, "; and 1 more.");
  busy.release();
  alsoBusy.release();
  await pool.end();
});

Deno.test("pool.end() fails acquire() calls still waiting at once with PoolEndedError", async () => {
  const { pool } = newPool({ max: 1, acquireTimeoutMs: 60_000 });
  const held = await pool.acquire();
  const waiting = [pool.acquire(), pool.acquire()];
  await eventually(() => pool.stats().waiting, (n) => n === 2);
  const ended = pool.end();
  for (const waiter of waiting) {
    // The class shows the wait was cut short: a timeout would be a PoolExhaustedError, after 60 s.
    await assertRejects(() => waiter, PoolEndedError, `Cannot acquire from pool "${pool.name}"`);
  }
  await ended;
  assertEquals(held.state, "reclaimed");
  assertEquals(pool.stats().waiting, 0);
});

Deno.test("pool.reset() cancels the statement still running on a reclaimed connection", async () => {
  const { pool } = newPool({ max: 2 });
  let running: Promise<unknown> | undefined;
  const lease = await pool.scope("leaks_mid_query", async () => {
    const conn = await pool.acquire();
    running = conn.query("SELECT pg_sleep(6)"); // still running when the scope ends: leaked mid-query
    running.catch(() => {});
    return conn;
  });
  const busy = await eventually(
    () => adminQuery<{ state: string }>("SELECT state FROM pg_stat_activity WHERE pid = $1", [lease.pid]),
    (rows) => rows[0]?.state === "active",
  );
  assertEquals(busy.map((r) => r.state), ["active"], "the leaked backend runs pg_sleep");
  assertEquals(pool.reset(), 1);
  // The leaker's query fails, cancelled ("canceling statement due to user request") or cut off with its socket.
  await assertRejects(() => running!, Error);
  // Without the cancel the backend would stay "active" in pg_sleep for the full 6 s after its socket closed.
  const after = await eventually(
    () => adminQuery<{ state: string }>("SELECT state FROM pg_stat_activity WHERE pid = $1", [lease.pid]),
    (rows) => rows.length === 0,
  );
  assertEquals(after, [], "the reclaimed backend is gone, not still sleeping");
  await pool.end();
});

Deno.test("an acquire() its scope did not await, still out lateAcquireGraceMs after it arrived, is reported leaked from that scope", async () => {
  const { tracer, exporter } = recordingTracer();
  const { pool, logs } = newPool({ tracer, max: 1, lateAcquireGraceMs: 50 });
  const blocker = await pool.acquire();
  let late: Promise<unknown> | undefined;
  await pool.scope("forgets_to_await", () => {
    late = pool.acquire(); // not awaited: the scope ends first, while this waits for the blocker
  });
  assertEquals(pool.stats().leaked, 0, "nothing has arrived yet");
  blocker.release();
  const lease = await late!;
  assertEquals(pool.stats().leaked, 0, "just arrived: background work would return it now");
  assertEquals(await eventually(() => pool.stats().leaked, (n) => n === 1), 1, "reported once the grace has passed");
  assertEquals(pool.leaks().map((l) => l.leaseId), [(lease as { id: number }).id]);
  assertStringIncludes(logs.join("\n"), `acquired for scope "forgets_to_await" after it had ended`);
  const report = exporter.getFinishedSpans().find((s) => s.name === "connection_leak_detected")!;
  assertEquals(report.attributes["leaklab.leak"], true);
  assertEquals(report.attributes["leaklab.scope"], "forgets_to_await");
  const event = report.events.find((e) => e.name === "connection_leaked")!;
  assertEquals(event.attributes?.["leaklab.scope"], "forgets_to_await");
  await pool.end();
});

Deno.test("background work started in a scope (a timer, a fire-and-forget pool.query) is no leak", async () => {
  const { pool, logs } = newPool({ lateAcquireGraceMs: 200 });
  let background: Promise<unknown> | undefined;
  await pool.scope("starts_background_work", () => {
    background = new Promise((resolve) => setTimeout(resolve, 20)).then(() => pool.query("SELECT 1"));
  });
  await background;
  await new Promise((resolve) => setTimeout(resolve, 300)); // past the grace
  assertEquals(pool.stats().leaked, 0);
  assertEquals(logs.filter((line) => line.includes("leak")), []);
  await pool.end();
});

Deno.test("a lease past leakThresholdMs that then outlives its scope is reported once, not twice", async () => {
  const { tracer, exporter } = recordingTracer();
  const { pool } = newPool({ tracer, leakThresholdMs: 50 });
  await pool.scope("holds_too_long", async () => {
    await pool.acquire();
    await new Promise((resolve) => setTimeout(resolve, 150));
  });
  const events = exporter.getFinishedSpans().flatMap((span) =>
    span.events.filter((e) => e.name === "connection_leaked")
  );
  assertEquals(events.length, 1, "one connection_leaked event for one leaked lease");
  assertEquals(pool.stats().leaked, 1);
  pool.reset();
  await pool.end();
});

Deno.test("pool.history() records when a request starts waiting and when it gives up", async () => {
  const { pool } = newPool({ max: 1, acquireTimeoutMs: 100 });
  const held = await pool.acquire();
  await assertRejects(() => pool.acquire(), PoolExhaustedError);
  const changes = pool.history().map((s) => [s.change, s.waiting]);
  assertEquals(changes, [["acquire", 0], ["wait", 1], ["timeout", 0]]);
  held.release();
  await pool.end();
});

Deno.test("a pool without an OpenTelemetry SDK starts tracing within 64 spans of one being installed", async () => {
  const provider = new ProxyTracerProvider(); // no SDK behind it yet: tracing off
  const { pool } = newPool({ tracer: provider.getTracer("late") });
  const lease = async () => {
    const conn = await pool.acquire();
    try {
      await conn.query("SELECT 1");
    } finally {
      conn.release();
    }
  };
  for (let i = 0; i < 10; i++) await lease();
  const { exporter } = recordingTracer();
  const sdk = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] });
  provider.setDelegate(sdk);
  for (let i = 0; i < 40; i++) await lease(); // 120 spans asked for: the tracer is asked again within 64
  const names = exporter.getFinishedSpans().map((span) => span.name);
  assertGreater(names.length, 60, `traced again: ${names.length} spans`);
  assertEquals(names.slice(-3), ["get_connection", "database.query", "return_connection"]);
  await pool.end();
});

Deno.test("a fixed handler never leaks over 1,000 requests with 30 % of queries failing", async () => {
  const { pool } = newPool();
  const { FaultSchedule, readSensors } = await import("../lib/demo/fault_schedule.ts");
  const faults = new FaultSchedule({ failRate: 0.3, seed: 7 });
  const twin = new FaultSchedule({ failRate: 0.3, seed: 7 });
  let expectedFailures = 0;
  for (let i = 0; i < 1_000; i++) if (twin.next()) expectedFailures++;
  let failures = 0;
  for (let i = 0; i < 1_000; i++) {
    try {
      await pool.scope("good_query_no_leak", async () => {
        await using conn = await pool.acquire();
        return await readSensors(conn, faults);
      });
    } catch (error) {
      assertEquals((error as { code?: string }).code, "57014", "only the scheduled statement timeouts fail");
      failures++;
    }
  }
  assertEquals(failures, expectedFailures);
  assertGreater(failures, 250);
  assertEquals(pool.stats().leaked, 0);
  assertEquals(pool.stats().active, 0);
  assertEquals(pool.leaks(), []);
  await pool.end();
});

Deno.test("leak detection has no false positives or negatives over 1,000 randomized requests with 30 % errors", async () => {
  const { tracer, exporter } = recordingTracer();
  const { pool } = newPool({ tracer }); // the default, adaptive acquire sites: detection must not depend on them
  const { FaultSchedule } = await import("../lib/demo/fault_schedule.ts");
  const { badQueryWithLeak, goodQueryNoLeak } = await import("../lib/demo/query_handlers.ts");
  const faults = new FaultSchedule({ failRate: 0.3, seed: 23 });
  const coin = new FaultSchedule({ failRate: 0.5, seed: 5 }); // which handler each request runs, reproducibly
  const leakEvents = () =>
    exporter.getFinishedSpans().flatMap((span) => span.events).filter((event) => event.name === "connection_leaked")
      .length;
  let leaks = 0;
  let failures = 0;
  for (let i = 0; i < 1_000; i++) {
    const bad = coin.next();
    const before = { leaked: pool.stats().leaked, events: leakEvents() };
    let failed = false;
    try {
      await (bad ? badQueryWithLeak : goodQueryNoLeak)(pool, faults);
    } catch (error) {
      assertEquals((error as { code?: string }).code, "57014", `request ${i}: only scheduled statement timeouts fail`);
      failed = true;
      failures++;
    }
    const leaked = bad && failed; // the bad handler leaks exactly when its query fails
    const what = `request ${i} (${bad ? "bad" : "good"} handler, query ${failed ? "failed" : "ok"})`;
    assertEquals(pool.stats().leaked - before.leaked, leaked ? 1 : 0, `${what}: leaked count`);
    assertEquals(leakEvents() - before.events, leaked ? 1 : 0, `${what}: connection_leaked events`);
    assertEquals(pool.leaks().length, pool.stats().leaked, `${what}: pool.leaks()`);
    if (leaked) leaks++;
    if (pool.stats().leaked === pool.max - 1) {
      assertEquals(pool.reset(), pool.max - 1, `${what}: reset reclaims them all`);
    }
  }
  assertGreater(failures, 250);
  assertGreater(leaks, 100);
  assertEquals(pool.stats().active, pool.stats().leaked, "nothing but leaks is out at the end");
  await pool.end();
});

Deno.test("pool.stats().leaked equals the pool's backends in pg_stat_activity", async () => {
  const { pool } = newPool();
  for (let i = 0; i < 3; i++) {
    await pool.scope("bad_query_with_leak", async () => {
      await pool.acquire();
    });
  }
  const backends = await backendsOf(pool.name);
  assertEquals(pool.stats().leaked, 3);
  assertEquals(backends.length, pool.stats().leaked);
  assertEquals(backends.map((b) => b.pid).sort(), pool.leaks().map((l) => l.pid).sort());
  assertEquals(backends.map((b) => b.state), ["idle", "idle", "idle"], "leaked backends sit idle on the server");
  await pool.end();
});

Deno.test("a lease held past leakThresholdMs is reported once, then reported returned (unleaked)", async () => {
  const { tracer, exporter } = recordingTracer();
  const { pool, logs } = newPool({ tracer, leakThresholdMs: 50, captureAcquireSites: "always" });
  const lease = await pool.acquire();
  await new Promise((resolve) => setTimeout(resolve, 150));
  assertEquals(pool.stats().leaked, 1);
  const warnings = logs.filter((line) => line.includes("longer than leakThresholdMs=50"));
  assertEquals(warnings.length, 1, "reported exactly once");
  assertStringIncludes(warnings[0], "pool_test.ts", "the warning carries the acquire-site stack");
  const detected = only(exporter.getFinishedSpans(), "connection_leak_detected");
  const acquire = only(exporter.getFinishedSpans(), "get_connection");
  assertEquals(
    parentOf(detected),
    acquire.spanContext().spanId,
    "reported under the get_connection that handed it out",
  );
  assertEquals(detected.spanContext().traceId, acquire.spanContext().traceId);
  assertStringIncludes(String(detected.events[0].attributes?.["code.stacktrace"]), "pool_test.ts");

  lease.release();
  assertEquals(pool.stats().leaked, 0);
  assert(logs.some((line) => line.includes(`leaked connection #${lease.id} was returned to the pool (unleaked)`)));
  const returned = exporter.getFinishedSpans().filter((s) => s.name === "return_connection").at(-1)!;
  assertEquals(returned.events.map((e) => e.name), ["connection_unleaked", "connection_returned_safely"]);
  await pool.end();
});

Deno.test("lease.release() twice throws LeaseReleasedError and records connection_double_release", async () => {
  const { tracer, exporter } = recordingTracer();
  const { pool } = newPool({ tracer });
  const lease = await pool.acquire();
  lease.release();
  const before = pool.stats();
  const error = assertThrows(() => lease.release(), LeaseReleasedError);
  assertEquals(error.name, "LeaseReleasedError");
  assertStringIncludes(error.message, `Connection #${lease.id} was already returned to the pool`);
  assertEquals(pool.stats(), before, "the pool is untouched");
  const double = exporter.getFinishedSpans().filter((s) => s.name === "return_connection").at(-1)!;
  assertEquals(double.events.map((e) => e.name), ["connection_double_release"]);
  assertEquals(double.status.code, SpanStatusCode.ERROR);
  await lease[Symbol.asyncDispose](); // disposing after an explicit release stays quiet
  await assertRejects(() => lease.query("SELECT 1"), LeaseReleasedError, "it was already returned to the pool");
  await pool.end();
});

Deno.test("a backend killed while leased is removed, not counted as leaked, and the pool heals", async () => {
  const { pool, logs } = newPool({ max: 2 });
  const victim = await pool.acquire();
  const leakedVictim = await pool.scope("leaks", () => pool.acquire());
  assertEquals(pool.stats().leaked, 1);
  await adminQuery("SELECT pg_terminate_backend($1)", [victim.pid]);
  await adminQuery("SELECT pg_terminate_backend($1)", [leakedVictim.pid]);
  assertEquals(await eventually(() => pool.stats(), (stats) => stats.active === 0), {
    max: 2,
    total: 0,
    idle: 0,
    active: 0,
    available: 2,
    leaked: 0,
    waiting: 0,
  });
  assertEquals(pool.history().filter((s) => s.change === "lost").length, 2);
  assert(logs.some((line) => line.includes("was closed by the server while in use")));
  await assertRejects(() => victim.query("SELECT 1"), LeaseReleasedError, "the server closed it");
  victim.release(); // the pool already dropped it: a no-op, not an error
  const healed = await pool.query<{ ok: number }>("SELECT 1 AS ok");
  assertEquals(healed.rows, [{ ok: 1 }]);
  assertEquals(pool.stats().idle, 1);
  await pool.end();
});

Deno.test("pool.reset() reclaims leaked connections and zeroes the leaked count", async () => {
  const { tracer, exporter } = recordingTracer();
  const { pool } = newPool({ tracer, max: 3 });
  const healthy = await pool.acquire();
  const leaked = await pool.scope("leaks", () => pool.acquire());
  const leakedPid = leaked.pid;
  assertEquals(pool.stats(), { max: 3, total: 2, idle: 0, active: 2, available: 1, leaked: 1, waiting: 0 });
  assertEquals(pool.reset(), 1);
  assertEquals(pool.stats(), { max: 3, total: 1, idle: 0, active: 1, available: 2, leaked: 0, waiting: 0 });
  const reset = only(exporter.getFinishedSpans(), "pool.reset");
  assertEquals(reset.events[0].attributes?.count, 1);
  leaked.release(); // the leaking code returning it late is harmless
  await assertRejects(() => leaked.query("SELECT 1"), LeaseReleasedError, "reclaimed");
  const backends = await eventually(() => backendsOf(pool.name), (rows) => !rows.some((b) => b.pid === leakedPid));
  assertEquals(backends.map((b) => b.pid), [healthy.pid], "the leaked backend was closed");
  healthy.release();
  await pool.end();
});

Deno.test("pool.end() closes connections still out instead of hanging, and says so", async () => {
  const { pool, logs } = newPool({ captureAcquireSites: "always" });
  const out = await pool.acquire();
  await pool.end();
  assertStringIncludes(
    logs.join("\n"),
    `with 1 connection(s) still out, closing them: #${out.id} from tests/pool_test.ts`,
  );
  await assertRejects(() => pool.acquire(), PoolEndedError, "it has been ended");
  assertEquals((await backendsOf(pool.name)).length, 0);
});

Deno.test("pool.history() keeps at most historySize samples", async () => {
  const { pool } = newPool({ historySize: 3 });
  for (let i = 0; i < 4; i++) (await pool.acquire()).release();
  assertEquals(pool.history().map((s) => s.change), ["release", "acquire", "release"]);
  await pool.end();
});

Deno.test("pool.acquire() explains an unreachable server with DatabaseConnectionError, password hidden", async () => {
  const pool = new TracedPool({ connectionString: "postgres://app:hunter2@127.0.0.1:1/shop", log: () => {} });
  const error = await assertRejects(() => pool.acquire(), DatabaseConnectionError);
  assertEquals(error.kind, "unreachable");
  assertStringIncludes(error.message, "Cannot reach Postgres at postgres://app:***@127.0.0.1:1/shop");
  assertNotMatch(error.message, /hunter2/);
  assertEquals(pool.stats().active, 0);
  await pool.end();
});

Deno.test("captureAcquireSites: false still detects leaks, and names the scope and trace instead of the site", async () => {
  const { pool, logs } = newPool({ captureAcquireSites: false });
  await pool.scope("leaks", () => pool.acquire());
  const [leak] = pool.leaks();
  assertEquals(pool.stats().leaked, 1);
  assertEquals(leak.site, `(acquire site not captured: captureAcquireSites is "never")`);
  assertEquals(leak.scope, "leaks");
  assertEquals(leak.traceId, undefined, "no SDK in this file: no trace knows of it");
  assertStringIncludes(logs.join("\n"), `It was acquired in scope "leaks" (its acquire site was not captured`);
  await pool.end();
});

Deno.test('captureAcquireSites: "adaptive" captures sites once a pool has leaked', async () => {
  const { pool } = newPool({ max: 5, acquireTimeoutMs: 100 }); // adaptive is the default
  assertEquals(pool.captureAcquireSites, "adaptive");
  const healthy = await pool.acquire(); // 1 of 5: healthy, no site
  assertEquals(healthy.siteCaptured, false);
  const first = await pool.scope("leaks", () => pool.acquire()); // the first leak: reported by scope and trace
  assertEquals([first.siteCaptured, pool.leaks()[0].scope], [false, "leaks"]);
  const second = await pool.scope("leaks", () => pool.acquire()); // the pool now shows a leak: every site captured
  assertEquals(second.siteCaptured, true);
  assertMatch(pool.leaks()[1].site, /^tests\/pool_test\.ts:\d+:\d+$/);
  pool.reset();
  const busy = [await pool.acquire(), await pool.acquire(), await pool.acquire()];
  assertEquals(busy.map((lease) => lease.siteCaptured), [true, true, true], "leaked within the last 10 minutes");
  const error = await assertRejects(async () => {
    await pool.acquire();
    await pool.acquire();
  }, PoolExhaustedError);
  // No SDK in this file: no trace knows of the lease, so none is named (never the all-zero trace id).
  assertMatch(error.message, /#1 \(pid \d+\) for \d+\.\ds site not captured/);
  assertEquals(error.message.includes("0".repeat(32)), false);
  for (const lease of [healthy, ...busy]) lease.release();
  await pool.end();
});

Deno.test('captureAcquireSites: "adaptive" costs a busy, healthy pool nothing, and captures after it runs dry', async () => {
  const { pool } = newPool({ max: 2, acquireTimeoutMs: 300 }); // opening a connection on a busy machine can take 50 ms
  const held = [await pool.acquire(), await pool.acquire()]; // full, and nothing leaked
  assertEquals(held.map((lease) => lease.siteCaptured), [false, false]);
  await assertRejects(() => pool.acquire(), PoolExhaustedError); // ran dry: someone holds too long
  held[0].release();
  const next = await pool.acquire();
  assertEquals(next.siteCaptured, true, "captured for 10 minutes after an exhaustion");
  next.release();
  held[1].release();
  await pool.end();
});

Deno.test("new TracedPool() rejects an unknown captureAcquireSites policy, naming the choices", () => {
  assertThrows(
    () => new TracedPool({ connectionString: url, captureAcquireSites: "sometimes" as "always" }),
    RangeError,
    `'captureAcquireSites' must be "always", "adaptive", "never" or a boolean: current value is "sometimes"`,
  );
});
