/**
 * Opening one plain connection to a Postgres server, turning any failure
 * into a {@linkcode DatabaseConnectionError} that names the server (password
 * hidden) and the fix. The start-up check and the schema step both connect
 * through here.
 *
 * @module
 */
// @ts-types="@types/pg"
import pg from "pg";
import { describeConnectionError, parsePostgresUrl } from "./connection_errors.ts";

/** Options for {@linkcode connectClient}. */
export interface ConnectOptions {
  /** How long to wait for the server to answer. @default 5000 */
  timeoutMs?: number;
  /** `application_name` in `pg_stat_activity`. @default "leak-lab:check" */
  applicationName?: string;
}

/**
 * A connected `pg.Client`; the caller ends it.
 * @throws {DatabaseConnectionError} when the URL is malformed, the server unreachable, the login rejected or the database missing
 */
export async function connectClient(url: string, options: ConnectOptions = {}): Promise<pg.Client> {
  parsePostgresUrl(url);
  const client = new pg.Client({
    connectionString: url,
    connectionTimeoutMillis: options.timeoutMs ?? 5_000,
    application_name: options.applicationName ?? "leak-lab:check",
  });
  // A server that drops us later must surface as a rejected query, not as an
  // unhandled 'error' event that kills the process.
  client.on("error", () => {});
  try {
    await client.connect();
  } catch (error) {
    await client.end().catch(() => {});
    throw describeConnectionError(error, url);
  }
  return client;
}

/**
 * Connects once and disconnects: is this server usable?
 *
 * @throws {DatabaseConnectionError} saying why not, and what to do
 * @example
 * ```ts ignore
 * import { checkConnection } from "./connect.ts";
 * await checkConnection(Deno.env.get("DATABASE_URL")!);
 * ```
 */
export async function checkConnection(url: string, timeoutMs = 5_000): Promise<void> {
  const client = await connectClient(url, { timeoutMs });
  await client.end().catch(() => {});
}
