/**
 * Creates the demo schema (`sensors`, 300 readings) if it is missing.
 *
 * The SQL lives in `schema.sql` beside this file so the docker compose
 * Postgres and Leak Lab create exactly the same table.
 *
 * @module
 */
import pg from "pg";
import { describeConnectionError } from "./connection_errors.ts";

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
  const client = new pg.Client({
    connectionString: url,
    connectionTimeoutMillis: connectTimeoutMs,
    application_name: "leak-lab:setup",
  });
  // A server that drops us mid-setup must surface as a rejected query, not
  // as an unhandled 'error' event that kills the process.
  client.on("error", () => {});
  try {
    await client.connect();
  } catch (error) {
    throw describeConnectionError(error, url);
  }
  try {
    await client.query(sql);
  } finally {
    await client.end();
  }
}
