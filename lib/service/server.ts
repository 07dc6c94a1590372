/**
 * Starts the demo service: telemetry, the database (DATABASE_URL or an
 * embedded PostgreSQL), a TracedPool, and `Deno.serve` — and stops them in
 * the reverse order.
 *
 * @module
 */
import { type Database, openDatabase } from "../database.ts";
import { TracedPool } from "../pool.ts";
import { jaegerUiUrl, setupTelemetry, type Telemetry } from "../telemetry.ts";
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
  /** Stops serving, ends the pool, then shuts down what this call started. Idempotent. */
  close(): Promise<void>;
}

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
      log: options.warn ?? ((line: string) => console.warn(line)),
    });
    cleanups.push(() => pool.end());
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
        serviceName: telemetry.serviceName,
        serviceInstanceId: telemetry.serviceInstanceId,
      },
      log,
      metrics: () => telemetry.prometheusMetrics(),
    });
    const server = listen(config, app);
    cleanups.push(() => server.shutdown());
    const shown = ["0.0.0.0", "::", "[::]"].includes(config.host) ? "localhost" : config.host;
    const url = `http://${shown.includes(":") ? `[${shown}]` : shown}:${server.addr.port}/`;
    log(banner(url, database, telemetry, config));
    let closing: Promise<void> | undefined;
    return {
      url,
      port: server.addr.port,
      pool,
      telemetry,
      close: () => (closing ??= cleanUp()),
      [Symbol.asyncDispose]: () => (closing ??= cleanUp()),
    };
  } catch (error) {
    await cleanUp();
    throw error;
  }
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
