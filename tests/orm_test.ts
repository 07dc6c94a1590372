/**
 * Kysely and Drizzle over a TracedPool (issue #18), at the versions deno.json
 * pins, against real Postgres: selects, inserts, transactions, a throwing
 * transaction that returns its connection, and the pool's spans and leak
 * detection under them.
 */
import { assertEquals, assertRejects, assertStringIncludes } from "@std/assert";
import { Kysely, PostgresDialect, sql } from "kysely";
import { drizzle } from "drizzle-orm/node-postgres";
import { integer, pgTable, text } from "drizzle-orm/pg-core";
import { eq } from "drizzle-orm";
import { TracedPool } from "../lib/pool.ts";
import { adminQuery, checkpointDatabaseUrl, uniquePoolName } from "../lib/workshop/checkpoint_database.ts";
import { recordingTracer } from "../lib/workshop/recording_tracer.ts";

const url = checkpointDatabaseUrl();

async function withTable<T>(fn: (table: string, pool: TracedPool, spans: () => string[]) => Promise<T>): Promise<T> {
  const table = `orm_${crypto.randomUUID().slice(0, 8)}`;
  await adminQuery(`CREATE TABLE ${table} (id integer PRIMARY KEY, name text NOT NULL)`);
  const { tracer, exporter } = recordingTracer();
  const pool = new TracedPool({
    connectionString: url,
    name: uniquePoolName("orm"),
    tracer,
    captureAcquireSites: "always",
    log: () => {},
  });
  try {
    return await fn(table, pool, () => exporter.getFinishedSpans().map((s) => s.name));
  } finally {
    await pool.end();
    await adminQuery(`DROP TABLE ${table}`);
  }
}

interface Row {
  id: number;
  name: string;
}

Deno.test("Kysely's PostgresDialect runs selects, inserts and transactions over a TracedPool, traced", async () => {
  await withTable(async (table, pool, spans) => {
    const db = new Kysely<Record<string, Row>>({ dialect: new PostgresDialect({ pool }) });
    await db.insertInto(table).values({ id: 1, name: "one" }).execute();
    await db.transaction().execute(async (tx) => {
      await tx.insertInto(table).values({ id: 2, name: "two" }).execute();
    });
    assertEquals(await db.selectFrom(table).selectAll().orderBy("id").execute(), [{ id: 1, name: "one" }, {
      id: 2,
      name: "two",
    }]);
    await assertRejects(() =>
      db.transaction().execute(async (tx) => {
        await tx.insertInto(table).values({ id: 3, name: "three" }).execute();
        throw new Error("the handler failed");
      })
    );
    assertEquals((await sql<{ n: number }>`SELECT count(*)::int AS n FROM ${sql.table(table)}`.execute(db)).rows, [{
      n: 2,
    }]);
    assertEquals(pool.stats().active, 0, "the throwing transaction returned its connection");
    assertEquals(pool.stats().leaked, 0);
    const names = spans();
    assertEquals(
      names.filter((n) => n === "get_connection").length,
      names.filter((n) => n === "return_connection").length,
    );
    assertStringIncludes(names.join(","), "database.query");
    await db.destroy(); // Kysely ends the pool it was given
    assertEquals(pool.ended, true);
  });
});

Deno.test("Kysely queries inside a scope are its children, and a kept connection is reported at the scope's end", async () => {
  const { tracer, exporter } = recordingTracer();
  const pool = new TracedPool({ connectionString: url, name: uniquePoolName("orm-scope"), tracer, log: () => {} });
  const db = new Kysely<Record<string, Row>>({ dialect: new PostgresDialect({ pool }) });
  await pool.scope("GET /numbers", async () => {
    await sql`SELECT 1`.execute(db);
    await pool.connect(); // beside Kysely, never released: the leak
  });
  const spans = exporter.getFinishedSpans();
  const scope = spans.find((s) => s.name === "GET /numbers")!;
  const acquires = spans.filter((s) => s.name === "get_connection");
  assertEquals(acquires.length, 2);
  for (const acquire of acquires) assertEquals(acquire.parentSpanContext?.spanId, scope.spanContext().spanId);
  assertEquals(scope.attributes["leaklab.leak"], true);
  assertEquals(pool.leaks().map((l) => l.scope), ["GET /numbers"]);
  pool.reset();
  await db.destroy();
});

Deno.test("Drizzle's node-postgres driver runs queries and transactions over a TracedPool; a throwing transaction returns its connection", async () => {
  await withTable(async (table, pool, spans) => {
    const rows = pgTable(table, { id: integer("id").primaryKey(), name: text("name").notNull() });
    const db = drizzle({ client: pool });
    await db.insert(rows).values({ id: 1, name: "one" });
    await db.transaction(async (tx) => {
      await tx.insert(rows).values({ id: 2, name: "two" });
      await tx.update(rows).set({ name: "uno" }).where(eq(rows.id, 1));
    });
    assertEquals(await db.select().from(rows).orderBy(rows.id), [{ id: 1, name: "uno" }, { id: 2, name: "two" }]);
    await assertRejects(() =>
      db.transaction(async (tx) => {
        await tx.insert(rows).values({ id: 3, name: "three" });
        throw new Error("the handler failed");
      })
    );
    assertEquals((await db.select().from(rows)).length, 2, "rolled back");
    assertEquals([pool.stats().active, pool.stats().leaked], [0, 0]);
    const names = spans();
    assertEquals(
      names.filter((n) => n === "get_connection").length,
      names.filter((n) => n === "return_connection").length,
    );
    assertEquals(names.includes("database.query"), true);
  });
});
