/**
 * The Postgres a checkpoint (or a test) runs against, and how it looks at
 * it from outside the pool: `pg_stat_activity`, plain queries on a fresh
 * connection, and pools with names of their own.
 *
 * `deno task check` and `deno task test` provide the server (DATABASE_URL, or
 * an embedded one started for the whole run), so every file shares it.
 *
 * @module
 */
import pg from "pg";
import { TracedPool, type TracedPoolOptions } from "../pool.ts";

/**
 * DATABASE_URL, or a clear error saying how to provide one.
 * @throws {Error} when DATABASE_URL is not set
 */
export function checkpointDatabaseUrl(): string {
  const url = Deno.env.get("DATABASE_URL");
  if (!url) {
    throw new Error(
      "This needs a real Postgres. Run checkpoints with `deno task check <step>` and tests with `deno task test` " +
        "(they use DATABASE_URL or start an embedded PostgreSQL), or set DATABASE_URL to a server you can write to.",
    );
  }
  return url;
}

/** A unique pool name, so a pool's `application_name` is its own in `pg_stat_activity`. */
export function uniquePoolName(prefix: string): string {
  return `${prefix}-${crypto.randomUUID().slice(0, 8)}`;
}

/**
 * A TracedPool on the checkpoint database with a unique name, a short
 * acquire timeout (checkpoints exhaust pools on purpose), every acquire site
 * captured (a checkpoint names the line that leaked) and its warnings
 * dropped; `options` override any of that.
 *
 * @example
 * ```ts ignore
 * import { checkpointPool } from "./checkpoint_database.ts";
 * await using pool = checkpointPool("step03", { max: 5 });
 * ```
 */
export function checkpointPool(prefix: string, options: Partial<TracedPoolOptions> = {}): TracedPool {
  return new TracedPool({
    connectionString: checkpointDatabaseUrl(),
    name: uniquePoolName(prefix),
    acquireTimeoutMs: 300,
    captureAcquireSites: "always",
    log: () => {},
    ...options,
  });
}

/** Runs one query on a fresh, untraced connection: the view from outside the pool. */
export async function adminQuery<R extends pg.QueryResultRow = pg.QueryResultRow>(
  text: string,
  params?: unknown[],
): Promise<R[]> {
  const client = new pg.Client({ connectionString: checkpointDatabaseUrl(), application_name: "leak-lab:admin" });
  await client.connect();
  try {
    return (await client.query<R>(text, params)).rows;
  } finally {
    await client.end();
  }
}

/** The backends Postgres shows for a pool, found by its `application_name`. */
export async function backendsOf(poolName: string): Promise<{ pid: number; state: string }[]> {
  return await adminQuery<{ pid: number; state: string }>(
    "SELECT pid, state FROM pg_stat_activity WHERE application_name = $1 ORDER BY pid",
    [`leak-lab:${poolName}`],
  );
}
