/**
 * Where Leak Lab's Postgres comes from: `DATABASE_URL` when it is set (the
 * docker compose server, or any other), otherwise an embedded real
 * PostgreSQL started for this process. Never a mock.
 *
 * @module
 */
import { ensureSchema } from "./database/schema.ts";
import { redactUrl } from "./util/redact.ts";

// The client side lives in postgres.ts (the pool's door, with no server behind it); re-exported for the workshop.
export {
  checkConnection,
  connectClient,
  type ConnectionFailure,
  type ConnectionTarget,
  connectionTarget,
  type ConnectOptions,
  DatabaseConnectionError,
  describeConnectionError,
  parsePostgresUrl,
  sqlstate,
} from "./postgres.ts";
export type { EmbeddedPostgresError } from "./database/embedded_postgres.ts";
export { SEEDED_READINGS } from "./database/schema.ts";

/** Options for {@linkcode openDatabase}. */
export interface OpenDatabaseOptions {
  /** Server to use. @default Deno.env DATABASE_URL, else an embedded server */
  url?: string;
  /** How long to wait for the server to answer. @default 5000 */
  connectTimeoutMs?: number;
}

/** A Postgres server with the demo schema in place. */
export interface Database extends AsyncDisposable {
  /** Connection URL, password included: give it to a pool, never print it. */
  readonly url: string;
  /** The same URL with the password hidden: safe to print and to trace. */
  readonly displayUrl: string;
  /** Where it came from. */
  readonly source: "DATABASE_URL" | "embedded";
  /** Stops the embedded server; does nothing for DATABASE_URL. */
  stop(): Promise<void>;
}

/**
 * Opens the workshop's database and creates the `sensors` schema if missing.
 *
 * @throws {DatabaseConnectionError} when DATABASE_URL is malformed, the server
 *   is unreachable, the login fails or the database is missing
 * @throws {EmbeddedPostgresError} when the embedded server cannot start
 *
 * @example
 * ```ts ignore
 * import { openDatabase } from "./database.ts";
 * await using db = await openDatabase();
 * console.log(`using ${db.displayUrl} (${db.source})`);
 * ```
 */
export async function openDatabase(options: OpenDatabaseOptions = {}): Promise<Database> {
  const url = options.url ?? Deno.env.get("DATABASE_URL");
  if (url) {
    // One connection checks the URL, the server and the schema.
    await ensureSchema(url, options.connectTimeoutMs ?? 5_000);
    const stop = () => Promise.resolve();
    return {
      url,
      displayUrl: redactUrl(url),
      source: "DATABASE_URL",
      stop,
      [Symbol.asyncDispose]: stop,
    };
  }
  // Loaded only when needed, so a container with DATABASE_URL never needs the Postgres binaries.
  const { startEmbeddedPostgres } = await import("./database/embedded_postgres.ts");
  const server = await startEmbeddedPostgres();
  try {
    await ensureSchema(server.url);
  } catch (error) {
    await server.stop();
    throw error;
  }
  return {
    url: server.url,
    displayUrl: redactUrl(server.url),
    source: "embedded",
    stop: server.stop,
    [Symbol.asyncDispose]: server.stop,
  };
}
