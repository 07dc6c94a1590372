/**
 * TracedPool's options, their defaults, and the checks that reject bad ones
 * before any connection is made.
 *
 * @module
 */
import { metrics, trace } from "@opentelemetry/api";
// @ts-types="@types/pg"
import type pg from "pg";
import type { Attributes, Meter, PgPoolConfig, Tracer } from "../util/public_types.ts";
import { connectionTarget, parsePostgresUrl } from "../postgres.ts";
import { redactUrl } from "../util/redact.ts";

/**
 * When `acquire()` records where it was called (one `new Error()`, whose
 * stack is formatted only if reported):
 * - `"always"`: every acquire; each leak report and exhaustion error names
 *   the `file:line` of every holder.
 * - `"adaptive"`: only while the pool shows trouble: it has leaked
 *   connections, or leaked one or ran dry in the last 10 minutes. A busy but
 *   healthy pool pays nothing. A leak from a healthy pool (its first one,
 *   typically) is reported with its scope and trace id instead of its
 *   `file:line`; every later one has its site.
 * - `"never"`: no acquire site; reports name the scope and trace.
 */
export type AcquireSitePolicy = "always" | "adaptive" | "never";

/**
 * Options for {@linkcode TracedPool}: Leak Lab's, beside every
 * `pg.PoolConfig` field (`ssl`, `statement_timeout`, `host`, `user`,
 * `maxLifetimeSeconds`, …), which go to node-postgres as they are.
 * pg's `connectionTimeoutMillis` and `idleTimeoutMillis` are the same
 * settings as `acquireTimeoutMs` and `idleTimeoutMs`; pg-pool's debug `log`
 * is not passed on (`log` here receives Leak Lab's warnings).
 */
export interface TracedPoolOptions extends Omit<PgPoolConfig, "log"> {
  /**
   * `postgres://user:password@host:port/database`, or a socket URL such as
   * `postgres:///db?host=/var/run/postgresql`; the password never reaches a
   * span or log. @default pg's own: the `host`, `user`, … fields, else the PG* environment variables
   */
  connectionString?: string;
  /** Names the pool in spans, metrics, errors and `application_name`. @default "leak-lab" */
  name?: string;
  /** Most connections open at once. @default 5 */
  max?: number;
  /** How long `acquire()` waits for a connection before it throws. @default 2000 */
  acquireTimeoutMs?: number;
  /** Report a lease held longer than this; 0 turns it off. @default 30000 */
  leakThresholdMs?: number;
  /**
   * How long a connection acquired after its scope ended (an `acquire()` the
   * scope did not await) may stay out before it is reported as leaked.
   * Background work started in a request (a timer, a fire-and-forget
   * `pool.query()`) returns its connection within this and is not
   * reported. @default 1000
   */
  lateAcquireGraceMs?: number;
  /** Close connections idle this long. @default 10000 */
  idleTimeoutMs?: number;
  /**
   * Record where each lease is acquired, for leak reports and exhaustion
   * errors: see {@linkcode AcquireSitePolicy}; `true` means `"always"`,
   * `false` `"never"`. A capture costs several µs per acquire inside a busy
   * request (the async stack is walked), the largest single cost of the
   * pool's tracing, hence the adaptive default. @default "adaptive"
   */
  captureAcquireSites?: AcquireSitePolicy | boolean;
  /**
   * Most holders an exhaustion error names (every leaked one first, then the
   * oldest others); the message counts the rest. @default 10
   */
  maxReportedHolders?: number;
  /** Stats samples kept by `history()`. @default 1000 */
  historySize?: number;
  /** Starts the pool's spans. @default trace.getTracer("leak-lab.pool") */
  tracer?: Tracer;
  /** Records the pool's metrics. @default metrics.getMeter("leak-lab.pool") (call setupTelemetry first) */
  meter?: Meter;
  /** Receives leak, loss and shutdown warnings. @default console.warn */
  log?: (message: string) => void;
}

/** Leak Lab's own options, every one with its default applied. */
type OwnOptions = Required<
  Pick<
    TracedPoolOptions,
    | "name"
    | "max"
    | "acquireTimeoutMs"
    | "leakThresholdMs"
    | "lateAcquireGraceMs"
    | "idleTimeoutMs"
    | "maxReportedHolders"
    | "historySize"
    | "tracer"
    | "meter"
    | "log"
  >
>;

/** Every option with its default applied, and what node-postgres is given. */
export interface ResolvedPoolOptions extends OwnOptions {
  /** The URL as given; when pg's fields or the PG* variables describe the server instead, one built from them. */
  connectionString: string;
  /** Everything node-postgres' `Pool` is given: the caller's pg fields and Leak Lab's settings under pg's names. */
  pgConfig: pg.PoolConfig;
  captureAcquireSites: AcquireSitePolicy;
  /** Identifies the pool on every span and metric. */
  poolAttributes: Attributes;
  /** `db.*` and `server.*` attributes for query spans (never the password). */
  queryAttributes: Attributes;
}

/**
 * Applies defaults and validates.
 * @throws {RangeError} naming the first bad option and its value
 */
export function resolvePoolOptions(options: TracedPoolOptions): ResolvedPoolOptions {
  const {
    name: _name,
    acquireTimeoutMs: _acquire,
    leakThresholdMs: _threshold,
    lateAcquireGraceMs: _grace,
    idleTimeoutMs: _idle,
    captureAcquireSites: _sites,
    maxReportedHolders: _holders,
    historySize: _history,
    tracer: _tracer,
    meter: _meter,
    log: _log,
    ...pgFields
  } = options;
  const connectionString = options.connectionString ?? "";
  const url = connectionString ? checkedUrl(connectionString) : undefined;
  const name = options.name ?? "leak-lab";
  if (typeof name !== "string" || name.trim() === "") {
    throw new RangeError(`Cannot create TracedPool as 'name' must be a non-empty string: current value is "${name}"`);
  }
  const max = integer("max", options.max ?? 5, 1);
  const acquireTimeoutMs = integer(
    "acquireTimeoutMs",
    sameAs(options, "acquireTimeoutMs", "connectionTimeoutMillis", 2_000),
    1,
  );
  const idleTimeoutMs = integer("idleTimeoutMs", sameAs(options, "idleTimeoutMs", "idleTimeoutMillis", 10_000), 0);
  const poolAttributes = { "db.client.connection.pool.name": name };
  const env = (key: string) => Deno.env.get(key) || undefined; // pg reads PG* too; only for the span attributes
  const host = url?.hostname || url?.searchParams.get("host") || options.host || env("PGHOST") || "localhost";
  const port = Number(url?.port || options.port || env("PGPORT") || 5432);
  // Named as pg reads the URL (pg-connection-string): "%3D" stays "%3D", a lone "%" is no URIError.
  const target = connectionString ? connectionTarget(connectionString) : {};
  const user = target.user || options.user || env("PGUSER");
  const namespace = target.database || options.database || env("PGDATABASE") || user || "postgres";
  return {
    connectionString: connectionString ||
      `postgres://${user ? `${encodeURIComponent(user)}@` : ""}${host}:${port}/${namespace}`,
    pgConfig: {
      ...pgFields,
      max,
      connectionTimeoutMillis: acquireTimeoutMs,
      idleTimeoutMillis: idleTimeoutMs,
      application_name: options.application_name ?? `leak-lab:${name}`,
    },
    name,
    max,
    acquireTimeoutMs,
    leakThresholdMs: integer("leakThresholdMs", options.leakThresholdMs ?? 30_000, 0),
    lateAcquireGraceMs: integer("lateAcquireGraceMs", options.lateAcquireGraceMs ?? 1_000, 0),
    idleTimeoutMs,
    historySize: integer("historySize", options.historySize ?? 1_000, 1),
    maxReportedHolders: integer("maxReportedHolders", options.maxReportedHolders ?? 10, 1),
    captureAcquireSites: sitePolicy(options.captureAcquireSites),
    tracer: options.tracer ?? trace.getTracer("leak-lab.pool"),
    meter: options.meter ?? metrics.getMeter("leak-lab.pool"),
    log: options.log ?? ((message: string) => console.warn(message)),
    poolAttributes,
    queryAttributes: {
      "db.system.name": "postgresql",
      "db.namespace": namespace,
      "server.address": host,
      "server.port": port,
    },
  };
}

/**
 * The URL, checked as the pool's connection: a `postgres://` URL, with a host or a socket `?host=`.
 * @throws {RangeError} naming the URL, password hidden
 */
function checkedUrl(connectionString: string): URL {
  let url: URL | undefined;
  try {
    url = typeof connectionString === "string" ? new URL(connectionString) : undefined;
  } catch {
    url = undefined;
  }
  if (!url || !["postgres:", "postgresql:"].includes(url.protocol)) {
    const shown = typeof connectionString === "string" ? `"${redactUrl(connectionString)}"` : String(connectionString);
    throw new RangeError(
      `Cannot create TracedPool as 'connectionString' must be a postgres:// URL: current value is ${shown}`,
    );
  }
  // A URL with a host gets every check DATABASE_URL gets: an "@" after the host is a password that needs encoding.
  if (url?.hostname) {
    try {
      parsePostgresUrl(connectionString);
    } catch (error) {
      const why = (error as Error).message.split("; fix it")[0].replace(/^DATABASE_URL/, "'connectionString'");
      throw new RangeError(`Cannot create TracedPool: ${why}.`);
    }
  }
  return url;
}

/** Leak Lab's option, or pg's name for the same setting; both given and different is a mistake. */
function sameAs(
  options: TracedPoolOptions,
  ours: "acquireTimeoutMs" | "idleTimeoutMs",
  pgs: "connectionTimeoutMillis" | "idleTimeoutMillis",
  fallback: number,
): number {
  const mine = options[ours];
  const theirs = options[pgs] ?? undefined;
  if (mine !== undefined && theirs !== undefined && mine !== theirs) {
    throw new RangeError(
      `Cannot create TracedPool as '${ours}' (${mine}) and pg's '${pgs}' (${theirs}) are the same setting: give one`,
    );
  }
  return mine ?? theirs ?? fallback;
}

function sitePolicy(value: AcquireSitePolicy | boolean | undefined): AcquireSitePolicy {
  if (value === undefined) return "adaptive";
  if (value === true) return "always";
  if (value === false) return "never";
  if (value === "always" || value === "adaptive" || value === "never") return value;
  throw new RangeError(
    `Cannot create TracedPool as 'captureAcquireSites' must be "always", "adaptive", "never" or a boolean: ` +
      `current value is ${JSON.stringify(value)}`,
  );
}

function integer(option: string, value: number, min: 0 | 1): number {
  if (!Number.isInteger(value) || value < min) {
    const kind = min === 1 ? "a positive integer" : "a non-negative integer";
    throw new RangeError(`Cannot create TracedPool as '${option}' must be ${kind}: current value is ${value}`);
  }
  return value;
}
