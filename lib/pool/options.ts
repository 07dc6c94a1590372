/**
 * TracedPool's options, their defaults, and the checks that reject bad ones
 * before any connection is made.
 *
 * @module
 */
import { type Attributes, type Meter, metrics, trace, type Tracer } from "@opentelemetry/api";
import { connectionTarget, parsePostgresUrl } from "../database.ts";
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

/** Options for {@linkcode TracedPool}. */
export interface TracedPoolOptions {
  /** `postgres://user:password@host:port/database`; the password never reaches a span or log. */
  connectionString: string;
  /** Names the pool in spans, metrics, errors and `application_name`. @default "leak-lab" */
  name?: string;
  /** Most connections open at once. @default 5 */
  max?: number;
  /** How long `acquire()` waits for a connection before it throws. @default 2000 */
  acquireTimeoutMs?: number;
  /** Report a lease held longer than this; 0 turns it off. @default 30000 */
  leakThresholdMs?: number;
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
  /** @default trace.getTracer("leak-lab.pool") */
  tracer?: Tracer;
  /** @default metrics.getMeter("leak-lab.pool") (call setupTelemetry first) */
  meter?: Meter;
  /** Receives leak, loss and shutdown warnings. @default console.warn */
  log?: (message: string) => void;
}

/** Every option with its default applied, and the parsed URL. */
export interface ResolvedPoolOptions extends Required<Omit<TracedPoolOptions, "captureAcquireSites">> {
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
  const { connectionString } = options;
  let url: URL | undefined;
  try {
    if (typeof connectionString === "string") url = parsePostgresUrl(connectionString);
  } catch { /* reported below */ }
  if (!url) {
    const shown = typeof connectionString === "string" ? `"${redactUrl(connectionString)}"` : String(connectionString);
    throw new RangeError(
      `Cannot create TracedPool as 'connectionString' must be a postgres:// URL: current value is ${shown}`,
    );
  }
  const name = options.name ?? "leak-lab";
  if (typeof name !== "string" || name.trim() === "") {
    throw new RangeError(`Cannot create TracedPool as 'name' must be a non-empty string: current value is "${name}"`);
  }
  const poolAttributes = { "db.client.connection.pool.name": name };
  return {
    connectionString,
    name,
    max: integer("max", options.max ?? 5, 1),
    acquireTimeoutMs: integer("acquireTimeoutMs", options.acquireTimeoutMs ?? 2_000, 1),
    leakThresholdMs: integer("leakThresholdMs", options.leakThresholdMs ?? 30_000, 0),
    idleTimeoutMs: integer("idleTimeoutMs", options.idleTimeoutMs ?? 10_000, 0),
    historySize: integer("historySize", options.historySize ?? 1_000, 1),
    maxReportedHolders: integer("maxReportedHolders", options.maxReportedHolders ?? 10, 1),
    captureAcquireSites: sitePolicy(options.captureAcquireSites),
    tracer: options.tracer ?? trace.getTracer("leak-lab.pool"),
    meter: options.meter ?? metrics.getMeter("leak-lab.pool"),
    log: options.log ?? ((message: string) => console.warn(message)),
    poolAttributes,
    queryAttributes: {
      "db.system.name": "postgresql",
      "db.namespace": namespace(connectionString),
      "server.address": url.hostname,
      "server.port": Number(url.port || 5432),
    },
  };
}

/** The database pg connects to, named as pg reads the URL (`%3D` stays, a lone `%` is no URIError). */
function namespace(connectionString: string): string {
  const { database, user } = connectionTarget(connectionString);
  return database ?? user ?? "postgres";
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
