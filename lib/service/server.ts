/**
 * Starts the demo service: telemetry, the database (DATABASE_URL or an
 * embedded PostgreSQL), a TracedPool, and `Deno.serve` — and stops them in
 * the reverse order.
 *
 * @module
 */
import { type Database, openDatabase } from "../database.ts";
import { TracedPool } from "../pool.ts";
import { jaegerUiAnswers, jaegerUiUrl, setupTelemetry, type Telemetry } from "../telemetry.ts";
import { eventually } from "../util/eventually.ts";
import { raceTimeout } from "../util/race_timeout.ts";
import { createApp } from "./app.ts";
import type { ServiceConfig } from "./config.ts";
import { tracedHandlers } from "./demo_pool.ts";

/** Options for {@linkcode startService}. */
export interface StartOptions {
  /** Use this telemetry and leave it running at close. @default setupTelemetry(), shut down at close */
  telemetry?: Telemetry;
  /** Use this database and leave it running at close. @default openDatabase({ url: config.databaseUrl }), stopped at close */
  database?: Database;
  /** Where the banner and the access log go. @default console.log */
  log?: (line: string) => void;
  /** Where pool warnings (leaks) go. @default console.warn */
  warn?: (line: string) => void;
}

/** A running service. */
export interface RunningService extends AsyncDisposable {
  /** The page's URL, e.g. http://127.0.0.1:9000/ */
  readonly url: string;
  readonly port: number;
  readonly pool: TracedPool;
  readonly telemetry: Telemetry;
  /**
   * Stops within {@linkcode SHUTDOWN_BUDGET_MS}: stops accepting connections,
   * lets requests that hold a connection finish, ends the pool (requests still
   * waiting for a connection get 503 at once instead of waiting
   * `acquireTimeoutMs`), waits for every response, then stops the database and
   * flushes the traces if this call started them. Idempotent.
   */
  close(): Promise<void>;
}

/** Longest `close()` takes; what is not done by then is left to the process exit (the embedded database's lifeline). */
export const SHUTDOWN_BUDGET_MS = 3_000;
/** Longest requests holding a connection get to finish their query before the pool ends under them. */
const DRAIN_GRACE_MS = 1_000;
/** Kept for stopping the database and flushing traces, however long clients hold their connections. */
const STOP_RESERVE_MS = 1_000;

/** The service could not start; the message says why and what to do. */
export class StartupError extends Error {
  /** @param message the cause and the fix */
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = "StartupError";
  }
}

/**
 * Starts the service and prints where it is, which database it uses
 * (password hidden) and whether Jaeger was found.
 *
 * @throws {DatabaseConnectionError} when DATABASE_URL is malformed or unreachable
 * @throws {StartupError} when the address cannot be listened on
 */
export async function startService(config: ServiceConfig, options: StartOptions = {}): Promise<RunningService> {
  const log = options.log ?? ((line: string) => console.log(line));
  const ownTelemetry = !options.telemetry;
  const telemetry = options.telemetry ?? await setupTelemetry();
  // What this call started, stopped last-first if start-up fails, and last by close(): database, telemetry.
  const cleanups: (() => Promise<void>)[] = ownTelemetry ? [() => telemetry.shutdown()] : [];
  const cleanUp = async () => {
    for (const step of cleanups.splice(0).reverse()) await step().catch(() => {});
  };
  try {
    const database = options.database ?? await openDatabase({ url: config.databaseUrl });
    if (!options.database) cleanups.push(() => database.stop());
    const pool = new TracedPool({
      connectionString: database.url,
      ...config.pool,
      // This setup's own: under Deno's built-in OpenTelemetry the global ones are Deno's, and the page reads these.
      tracer: telemetry.tracer,
      meter: telemetry.meter,
      log: options.warn ?? ((line: string) => console.warn(line)),
    });
    const app = createApp({
      pool,
      // simulate a flaky database: this schedule (FAIL_EVERY / FAIL_RATE) decides which queries fail,
      // see lib/demo/fault_schedule.ts
      handlers: tracedHandlers(pool, config.faults),
      faults: config.faults,
      spans: telemetry.spans,
      about: {
        database: database.displayUrl,
        databaseSource: database.source,
        exportingTo: telemetry.exportingTo,
        jaegerUiAnswers: telemetry.exportingTo !== undefined && await jaegerUiAnswers(),
        serviceName: telemetry.serviceName,
        serviceInstanceId: telemetry.serviceInstanceId,
      },
      log,
      metrics: () => telemetry.prometheusMetrics(),
      allowedHosts: config.allowedHosts,
    });
    let server: Deno.HttpServer<Deno.NetAddr>;
    try {
      server = listen(config, app);
    } catch (error) {
      await pool.end();
      throw error;
    }
    const shown = ["0.0.0.0", "::", "[::]"].includes(config.host) ? "localhost" : config.host;
    const url = `http://${shown.includes(":") ? `[${shown}]` : shown}:${server.addr.port}/`;
    log(banner(url, database, telemetry, config));
    let closing: Promise<void> | undefined;
    const close = () => (closing ??= shutDown(server, pool, cleanUp));
    return { url, port: server.addr.port, pool, telemetry, close, [Symbol.asyncDispose]: close };
  } catch (error) {
    await cleanUp();
    throw error;
  }
}

/** The one shutdown sequence (see {@linkcode RunningService.close}), bounded by {@linkcode SHUTDOWN_BUDGET_MS}. */
async function shutDown(
  server: Deno.HttpServer<Deno.NetAddr>,
  pool: TracedPool,
  stopTheRest: () => Promise<void>,
): Promise<void> {
  const deadline = performance.now() + SHUTDOWN_BUDGET_MS;
  const left = () => Math.max(0, deadline - performance.now());
  const answered = server.shutdown(); // no new connections; resolves when every request has its response
  // A request holding a connection is a query away from its answer. One waiting behind leaked connections would only
  // time out: ending the pool answers it now (PoolEndedError → 503 "service stopping").
  await eventually(() => pool.stats(), (s) => s.active === s.leaked, {
    timeoutMs: Math.min(DRAIN_GRACE_MS, left()),
    intervalMs: 10,
  });
  // Connections that never finish a request (Deno.serve has no header or idle timeout) must not hold up the rest.
  await raceTimeout(Promise.allSettled([pool.end(), answered]), Math.max(0, left() - STOP_RESERVE_MS));
  await raceTimeout(stopTheRest(), left());
}

function listen(config: ServiceConfig, app: ReturnType<typeof createApp>): Deno.HttpServer<Deno.NetAddr> {
  try {
    return Deno.serve({ hostname: config.host, port: config.port, onListen: () => {} }, app);
  } catch (error) {
    const where = `${config.host}:${config.port}`;
    if (error instanceof Deno.errors.AddrInUse) {
      throw new StartupError(
        `Port ${config.port} on ${config.host} is already in use. Stop what runs there, or set PORT to another port (PORT=0 picks a free one).`,
        { cause: error },
      );
    }
    throw new StartupError(
      `Cannot listen on ${where}: ${
        (error as Error).message
      }. Check HOST (127.0.0.1, or 0.0.0.0 in a container) and PORT.`,
      { cause: error },
    );
  }
}

function banner(url: string, database: Database, telemetry: Telemetry, config: ServiceConfig): string {
  const jaegerUi = jaegerUiUrl();
  const traces = telemetry.exportingTo
    ? `exported to ${telemetry.exportingTo}; Jaeger UI at ${jaegerUi}`
    : `in memory only: no Jaeger found on localhost:4318 (the page still shows every trace)`;
  const { max, acquireTimeoutMs } = config.pool;
  return [
    `Leak Lab demo service: ${url}`,
    `  database  ${database.displayUrl} (${database.source})`,
    `  traces    ${traces}`,
    `  faults    ${config.faults.description}; pool max ${max}, acquire timeout ${acquireTimeoutMs} ms`,
    `  metrics   ${url}metrics (Prometheus text format; service.instance.id ${telemetry.serviceInstanceId})`,
    `Press Ctrl+C to stop.`,
  ].join("\n");
}
