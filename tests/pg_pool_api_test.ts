/**
 * TracedPool as node-postgres' Pool (issue #18): code written for `pg.Pool`
 * runs unchanged against real Postgres, and every connection it takes is
 * counted, traced and leak-checked like `pool.acquire()`'s.
 */
import { assert, assertEquals, assertInstanceOf, assertRejects, assertStringIncludes, assertThrows } from "@std/assert";
import pg from "pg";
import { LeaseReleasedError, PoolExhaustedError, TracedPool } from "../lib/pool.ts";
import { backendsOf, checkpointDatabaseUrl, uniquePoolName } from "../lib/workshop/checkpoint_database.ts";
import { recordingTracer } from "../lib/workshop/recording_tracer.ts";
import { eventually } from "../lib/util/eventually.ts";

const url = checkpointDatabaseUrl();

function newPool(options: Partial<ConstructorParameters<typeof TracedPool>[0]> = {}) {
  const logs: string[] = [];
  const { tracer, exporter } = recordingTracer();
  const pool = new TracedPool({
    connectionString: url,
    name: uniquePoolName("pg-api"),
    acquireTimeoutMs: 300,
    tracer,
    log: (message) => logs.push(message),
    ...options,
  });
  return { pool, logs, spans: () => exporter.getFinishedSpans() };
}

/** Code written for pg.Pool, as an adopter has it: it takes a `pg.Pool`. */
async function countThroughPg(pool: pg.Pool): Promise<number> {
  const client = await pool.connect();
  try {
    const { rows } = await client.query<{ n: number }>("SELECT $1::int AS n", [41]);
    return rows[0].n + 1;
  } finally {
    client.release();
  }
}

Deno.test("TypeScript and node-postgres code take a TracedPool wherever a pg.Pool is expected", async () => {
  const { pool, spans } = newPool();
  const asPg: pg.Pool = pool; // compiles: the test file type-checks only if TracedPool is assignable to pg.Pool
  assertEquals(await countThroughPg(asPg), 42);
  assertEquals(spans().map((s) => s.name), ["get_connection", "database.query", "return_connection"]);
  assertEquals(spans()[1].attributes["db.query.text"], "SELECT $1::int AS n");
  await pool.end();
});

Deno.test("pool.connect() counts its client like a lease, and client.release() returns it", async () => {
  const { pool } = newPool();
  const client = await pool.connect();
  assertEquals([pool.stats().active, pool.totalCount, pool.idleCount], [1, 1, 0]);
  client.release();
  assertEquals([pool.stats().active, pool.totalCount, pool.idleCount], [0, 1, 1]);
  assertThrows(() => client.release(), LeaseReleasedError, "release() was called twice");
  await pool.end();
  assertEquals([pool.ending, pool.ended], [true, true]);
});

Deno.test("pool.connect(callback) calls back with the client and done; done(err) destroys it", async () => {
  const { pool } = newPool();
  const { client, done } = await new Promise<{ client: pg.PoolClient; done: (release?: Error | boolean) => void }>(
    (resolve, reject) => pool.connect((err, client, done) => err ? reject(err) : resolve({ client: client!, done })),
  );
  const pid = (client as unknown as { processID: number }).processID;
  done(new Error("this connection is in a bad state"));
  assertEquals([pool.stats().active, pool.totalCount], [0, 0], "destroyed, not pooled");
  assertEquals(await eventually(() => backendsOf(pool.name), (b) => !b.some((x) => x.pid === pid)), []);
  const failed = await new Promise<Error | undefined>((resolve) => {
    const held: Promise<pg.PoolClient>[] = Array.from({ length: 5 }, () => pool.connect());
    Promise.all(held).then((clients) => {
      pool.connect((err) => {
        resolve(err);
        for (const c of clients) c.release();
      });
    });
  });
  assertInstanceOf(failed, PoolExhaustedError);
  await pool.end();
});

Deno.test("a pool.connect() client that is never released is reported leaked at the end of its scope", async () => {
  const { pool, logs, spans } = newPool({ captureAcquireSites: "always" });
  await pool.scope("handler", async () => {
    const client = await pool.connect();
    await client.query("SELECT 1");
  });
  const [leak] = pool.leaks();
  assertEquals(leak.scope, "handler");
  assertStringIncludes(leak.site, "tests/pg_pool_api_test.ts:");
  assertStringIncludes(logs.join("\n"), `still out when scope "handler" ended`);
  assertEquals(spans().find((s) => s.name === "handler")?.attributes["leaklab.leak"], true);
  assertEquals(pool.reset(), 1);
  await pool.end();
});

Deno.test("pool.query() takes every form pg takes: text and values, a QueryConfig, rowMode, a callback", async () => {
  const { pool } = newPool();
  assertEquals((await pool.query("SELECT 1 AS one")).rows, [{ one: 1 }]);
  assertEquals((await pool.query("SELECT $1::text AS t", ["x"])).rows, [{ t: "x" }]);
  assertEquals((await pool.query({ text: "SELECT $1::int AS n", values: [7] })).rows, [{ n: 7 }]);
  assertEquals((await pool.query({ text: "SELECT 1, 2", rowMode: "array" })).rows, [[1, 2]]);
  const viaCallback = await new Promise((resolve, reject) =>
    pool.query("SELECT $1::int AS n", [3], (err, result) => err ? reject(err) : resolve(result.rows))
  );
  assertEquals(viaCallback, [{ n: 3 }]);
  const failure = await new Promise<Error | undefined>((resolve) => pool.query("SELECT 1 / 0", (err) => resolve(err)));
  assertStringIncludes(String(failure?.message), "division by zero");
  const client = await pool.connect();
  const fromClient = await new Promise((resolve, reject) =>
    client.query(
      { text: "SELECT $1::int AS n", values: [5] },
      (err: Error, r: pg.QueryResult) => err ? reject(err) : resolve(r.rows),
    )
  );
  assertEquals(fromClient, [{ n: 5 }]);
  client.release();
  assertEquals(pool.stats().active, 0, "every form returned its connection");
  await pool.end();
});

Deno.test("on/once/off hear connect, acquire, release and remove as pg-pool emits them; an idle error never kills", async () => {
  const { pool } = newPool({ idleTimeoutMs: 0 });
  const heard: string[] = [];
  for (const event of ["connect", "acquire", "release", "remove"]) pool.on(event, () => heard.push(event));
  const client = await pool.connect();
  client.release(true); // destroyed: "remove"
  await eventually(() => heard.includes("remove"), Boolean);
  assertEquals(heard.slice(0, 3), ["connect", "acquire", "release"]);
  // An idle client's error with no listener on the TracedPool: heard by the pool itself, the process lives on.
  const idle = await pool.connect();
  idle.release();
  const [{ pid }] = await backendsOf(pool.name);
  const admin = new pg.Client({ connectionString: url });
  await admin.connect();
  await admin.query("SELECT pg_terminate_backend($1)", [pid]);
  await admin.end();
  await eventually(() => pool.totalCount, (n) => n === 0);
  const errors: Error[] = [];
  pool.once("error", (error: Error) => errors.push(error));
  assertEquals(pool.listenerCount("error"), 1);
  await pool.end();
});

Deno.test("every pg.PoolConfig field reaches node-postgres: statement_timeout, application_name, pg's own timeout names", async () => {
  const { pool } = newPool({
    statement_timeout: 50,
    application_name: "adopter-service",
    connectionTimeoutMillis: 300,
  });
  const error = await assertRejects(() => pool.query("SELECT pg_sleep(1)"));
  assertStringIncludes(String((error as Error).message), "statement timeout");
  const { rows } = await pool.query<{ name: string }>("SELECT current_setting('application_name') AS name");
  assertEquals(rows[0].name, "adopter-service");
  assertEquals(pool.acquireTimeoutMs, 300);
  assertEquals(pool.options.statement_timeout, 50);
  await pool.end();
  assertThrows(
    () => new TracedPool({ connectionString: url, acquireTimeoutMs: 100, connectionTimeoutMillis: 200 }),
    RangeError,
    "'acquireTimeoutMs' (100) and pg's 'connectionTimeoutMillis' (200) are the same setting",
  );
});

Deno.test("a socket URL and pg's host/port/user/database fields work without a host in the URL", async () => {
  const parsed = new URL(url);
  const socketUrl = `postgres:///${parsed.pathname.slice(1)}?host=${parsed.hostname}&port=${parsed.port || 5432}` +
    `&user=${parsed.username || "postgres"}${parsed.password ? `&password=${parsed.password}` : ""}`;
  const { pool } = newPool({ connectionString: socketUrl });
  assertEquals((await pool.query("SELECT 1 AS one")).rows, [{ one: 1 }]);
  await pool.end();
  const fields = newPool({
    connectionString: undefined,
    host: parsed.hostname,
    port: Number(parsed.port || 5432),
    user: decodeURIComponent(parsed.username || "postgres"),
    password: decodeURIComponent(parsed.password) || undefined,
    database: parsed.pathname.slice(1),
  });
  assertEquals((await fields.pool.query("SELECT 2 AS two")).rows, [{ two: 2 }]);
  const query = fields.spans().find((s) => s.name === "database.query")!;
  assertEquals([query.attributes["server.address"], query.attributes["db.namespace"]], [
    parsed.hostname,
    parsed.pathname.slice(1),
  ]);
  assert(!JSON.stringify(query.attributes).includes(parsed.password || "\u0000"), "no password on a span");
  await fields.pool.end();
});
