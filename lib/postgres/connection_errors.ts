/**
 * Turns the raw errors of a failed Postgres connection (socket codes,
 * SQLSTATEs, pg-pool's timeout) into one named error that says which server
 * was meant, with the password hidden, and what to do next.
 *
 * @module
 */
import { parse } from "pg-connection-string";
import { redactUrl } from "../util/redact.ts";
import { shellQuote } from "../util/shell_quote.ts";

/** Why a connection could not be made. */
export type ConnectionFailure =
  | "malformed-url"
  | "unreachable"
  | "timeout"
  | "auth-failed"
  | "database-missing"
  | "unknown";

const FALLBACK_HINT = "or unset DATABASE_URL to let Leak Lab start its embedded PostgreSQL";

/** A Postgres connection failed; `kind` says why, the message says what to do. */
export class DatabaseConnectionError extends Error {
  /** Why the connection failed. */
  readonly kind: ConnectionFailure;
  /** The server that was meant, password hidden. */
  readonly server: string;

  /**
   * @param kind why the connection failed
   * @param server the connection URL, already redacted
   * @param message the whole message, naming the server and the next step
   */
  constructor(kind: ConnectionFailure, server: string, message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = "DatabaseConnectionError";
    this.kind = kind;
    this.server = server;
  }
}

const UNREACHABLE_CODES = new Set([
  "ECONNREFUSED",
  "ENOTFOUND",
  "EHOSTUNREACH",
  "ENETUNREACH",
  "EAI_AGAIN",
  "ECONNRESET",
]);

/**
 * Checks that `url` looks like a Postgres URL, before any socket is opened.
 * @throws {DatabaseConnectionError} kind "malformed-url"
 */
export function parsePostgresUrl(url: string): URL {
  const shown = redactUrl(url);
  let parsed: URL | undefined;
  try {
    parsed = new URL(url);
  } catch { /* reported below */ }
  if (!parsed || !["postgres:", "postgresql:"].includes(parsed.protocol) || !parsed.hostname) {
    throw new DatabaseConnectionError(
      "malformed-url",
      shown,
      `DATABASE_URL is not a valid Postgres URL: "${shown}". ` +
        `Expected postgres://user:password@host:5432/database; fix it, ${FALLBACK_HINT}.`,
    );
  }
  // "postgres://app:12/34@db/shop" parses, as host "app", port 12 and path "/34@db/shop": a password with "/", "?" or
  // "#" ends the host part early. Connecting would send the rest of the password to a server named after the user.
  if (`${parsed.pathname}${parsed.search}${parsed.hash}`.includes("@")) {
    throw new DatabaseConnectionError(
      "malformed-url",
      shown,
      `DATABASE_URL has an "@" after its host: "${shown}". If the password contains "/", "?", "#" or "@", ` +
        `percent-encode them (/ → %2F, ? → %3F, # → %23, @ → %40); fix it, ${FALLBACK_HINT}.`,
    );
  }
  return parsed;
}

/**
 * Explains why connecting to `url` failed with `error`.
 *
 * @example
 * ```ts
 * import { describeConnectionError } from "./connection_errors.ts";
 * const refused = Object.assign(new Error("connect ECONNREFUSED"), { code: "ECONNREFUSED" });
 * describeConnectionError(refused, "postgres://app:pw@127.0.0.1:1/x").kind; // "unreachable"
 * ```
 */
export function describeConnectionError(error: unknown, url: string): DatabaseConnectionError {
  if (error instanceof DatabaseConnectionError) return error;
  const server = redactUrl(url);
  const code = (error as { code?: string })?.code ?? "";
  const reason = error instanceof Error ? error.message : String(error);
  const target = connectionTarget(url);
  const user = target.user ?? "(default user)";
  const database = target.database ?? user;

  if (UNREACHABLE_CODES.has(code) || /terminated unexpectedly/i.test(reason)) {
    return new DatabaseConnectionError(
      "unreachable",
      server,
      `Cannot reach Postgres at ${server} (${code ? `${code}: ` : ""}${reason}). Is the server running? ` +
        `Start the compose one with \`docker compose up -d postgres\`, ${FALLBACK_HINT}.`,
      { cause: error },
    );
  }
  if (/timeout/i.test(reason) || code === "ETIMEDOUT") {
    return new DatabaseConnectionError(
      "timeout",
      server,
      `Timed out connecting to Postgres at ${server} (${reason}). ` +
        `Check the host and port and that no firewall drops the packets, ${FALLBACK_HINT}.`,
      { cause: error },
    );
  }
  if (code === "28P01" || code === "28000") {
    return new DatabaseConnectionError(
      "auth-failed",
      server,
      `Postgres at ${server} rejected the login for user "${user}" (${code}: ${reason}). ` +
        `Check the user and password in DATABASE_URL, ${FALLBACK_HINT}.`,
      { cause: error },
    );
  }
  if (code === "3D000") {
    return new DatabaseConnectionError(
      "database-missing",
      server,
      `Database "${database}" does not exist on ${server}. ` +
        `Create it (\`${createdbCommand(target, database)}\`) or point DATABASE_URL at an existing database, ` +
        `${FALLBACK_HINT}.`,
      { cause: error },
    );
  }
  return new DatabaseConnectionError(
    "unknown",
    server,
    `Could not connect to Postgres at ${server}: ${code ? `${code}: ` : ""}${reason}`,
    { cause: error },
  );
}

/** Whom and what a connection string asks for (never its password). */
export interface ConnectionTarget {
  /** The role to log in as. @default unset: pg's default (PGUSER, else the OS user) */
  user?: string;
  /** The database, as sent to the server. @default unset: the user's name */
  database?: string;
  /** Host name, address or socket directory. @default unset: pg's default (PGHOST, else localhost) */
  host?: string;
  /** The port. @default unset: pg's default (PGPORT, else 5432) */
  port?: string;
}

/**
 * What pg will ask the server for, read by the parser pg itself uses
 * (pg-connection-string): it decodes the database name with `decodeURI`, so
 * `%3D` stays `%3D` and a lone `%` is no error. Empty for what it cannot read.
 *
 * @example
 * ```ts
 * import { connectionTarget } from "./connection_errors.ts";
 * connectionTarget("postgres://app:pw@db:5433/a%3Db").database; // "a%3Db"
 * ```
 */
export function connectionTarget(url: string): ConnectionTarget {
  try {
    const { user, database, host, port } = parse(url);
    return {
      user: user || undefined,
      database: database || undefined,
      host: host || undefined,
      port: port || undefined,
    };
  } catch {
    return {};
  }
}

/** The createdb line for the server meant, each word shell-quoted (no password: createdb asks, or reads PGPASSWORD). */
function createdbCommand({ host, port, user }: ConnectionTarget, database: string): string {
  const words = ["createdb", ...(host ? ["-h", host] : []), ...(port ? ["-p", port] : [])];
  if (user) words.push("-U", user);
  if (database.startsWith("-")) words.push("--");
  return [...words, database].map(shellQuote).join(" ");
}
