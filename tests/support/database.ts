/**
 * The Postgres the tests run against. `deno task test` provides it (DATABASE_URL,
 * or an embedded server it starts for the whole run), so the tests themselves
 * never start one and every file shares it.
 *
 * @module
 */
import pg from "pg";

/** DATABASE_URL, or a clear error saying how to run the tests. */
export function testDatabaseUrl(): string {
  const url = Deno.env.get("DATABASE_URL");
  if (!url) {
    throw new Error(
      "These tests need a real Postgres. Run them with `deno task test` (it starts an embedded PostgreSQL), " +
        "or set DATABASE_URL to a server you can write to.",
    );
  }
  return url;
}

/** A unique pool name, so a test's `application_name` is its own in `pg_stat_activity`. */
export function uniquePoolName(prefix: string): string {
  return `${prefix}-${crypto.randomUUID().slice(0, 8)}`;
}

/** Runs one query on a fresh, untraced connection (the test's view from outside the pool). */
export async function adminQuery<R extends pg.QueryResultRow = pg.QueryResultRow>(
  text: string,
  params?: unknown[],
): Promise<R[]> {
  const client = new pg.Client({ connectionString: testDatabaseUrl(), application_name: "leak-lab:test-admin" });
  await client.connect();
  try {
    return (await client.query<R>(text, params)).rows;
  } finally {
    await client.end();
  }
}

/** Backend pids Postgres shows for a pool, by its `application_name`. */
export async function backendsOf(poolName: string): Promise<{ pid: number; state: string }[]> {
  return await adminQuery<{ pid: number; state: string }>(
    "SELECT pid, state FROM pg_stat_activity WHERE application_name = $1 ORDER BY pid",
    [`leak-lab:${poolName}`],
  );
}
