/**
 * Creates the demo schema (`sensors`, 300 readings) if it is missing.
 *
 * The SQL lives in `schema.sql` beside this file so the docker compose
 * Postgres and Leak Lab create exactly the same table.
 *
 * @module
 */
import { connectClient } from "../postgres.ts";

const SCHEMA_SQL = new URL("./schema.sql", import.meta.url);

/** How many readings `ensureSchema` seeds into an empty `sensors` table. */
export const SEEDED_READINGS = 300;

/**
 * Creates the `sensors` table and its readings when they are missing; safe to
 * run concurrently and repeatedly. Its connection doubles as the check that
 * the server is reachable: a failure is a DatabaseConnectionError.
 *
 * @example
 * ```ts ignore
 * import { ensureSchema } from "./schema.ts";
 * await ensureSchema(Deno.env.get("DATABASE_URL")!);
 * ```
 */
export async function ensureSchema(url: string, connectTimeoutMs = 5_000): Promise<void> {
  const sql = await Deno.readTextFile(SCHEMA_SQL);
  const client = await connectClient(url, { timeoutMs: connectTimeoutMs, applicationName: "leak-lab:setup" });
  try {
    await client.query(sql);
  } finally {
    await client.end();
  }
}
