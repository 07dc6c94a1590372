/**
 * Sends requests one after another, each under its own span, and keeps what
 * each one did: the original demo's progression (request, active, available,
 * leaked, outcome) and the workshop checkpoints' request runs are both built
 * on {@linkcode runRequests}.
 *
 * @module
 */
import { spanTime } from "../util/span_time.ts";
import { context, SpanStatusCode, trace, type Tracer } from "@opentelemetry/api";
import type { TracedPool } from "../pool.ts";

/** What one request did. */
export interface RequestOutcome<T> {
  /** 1-based. */
  request: number;
  /** The trace the request ran in. */
  traceId: string;
  /** Set when the request resolved. */
  value?: T;
  /** Set when the request rejected. */
  error?: unknown;
  ok: boolean;
}

/** Options for {@linkcode runRequests}. */
export interface RequestSeriesOptions<T> {
  /** How many requests. @default none (required) */
  count: number;
  /** Sends request number `request` (1-based). @default none (required) */
  send: (request: number) => Promise<T>;
  /** Makes each request's span. @default trace.getTracer("leak-lab") */
  tracer?: Tracer;
  /** Name of each request's span (it carries the attribute `leaklab.request`). @default "request" */
  spanName?: string;
  /** Start a new trace per request (as separate HTTP requests would) instead of a child of the active span. @default false */
  root?: boolean;
  /** Called after each request. @default nothing */
  onOutcome?: (outcome: RequestOutcome<T>) => void;
}

/**
 * Runs the requests one after another, each under its own span; a rejected
 * request marks its span as an error and the series goes on.
 *
 * @throws {RangeError} when `count` is not a positive integer
 * @example
 * ```ts ignore
 * import { runRequests } from "./request_series.ts";
 * const outcomes = await runRequests({ count: 20, root: true, send: () => listSensors(pool, faults) });
 * const failed = outcomes.filter((o) => !o.ok).map((o) => o.request);
 * ```
 */
export async function runRequests<T>(options: RequestSeriesOptions<T>): Promise<RequestOutcome<T>[]> {
  const { count, send } = options;
  if (!Number.isInteger(count) || count < 1) {
    throw new RangeError(`Cannot run requests as 'count' must be a positive integer: current value is ${count}`);
  }
  const tracer = options.tracer ?? trace.getTracer("leak-lab");
  const spanName = options.spanName ?? "request";
  const outcomes: RequestOutcome<T>[] = [];
  for (let request = 1; request <= count; request++) {
    const attributes = { "leaklab.request": request };
    const span = tracer.startSpan(spanName, { root: options.root, attributes, startTime: spanTime(performance.now()) });
    const traceId = span.spanContext().traceId;
    let outcome: RequestOutcome<T>;
    try {
      const value = await context.with(trace.setSpan(context.active(), span), () => send(request));
      outcome = { request, traceId, value, ok: true };
    } catch (error) {
      span.setStatus({ code: SpanStatusCode.ERROR, message: error instanceof Error ? error.message : String(error) });
      outcome = { request, traceId, error, ok: false };
    } finally {
      span.end(spanTime(performance.now())); // the pool's clock, so the request's spans end within it
    }
    outcomes.push(outcome);
    options.onOutcome?.(outcome);
  }
  return outcomes;
}

/** One request of a progression: the pool right after it. */
export interface ProgressionRow {
  request: number;
  active: number;
  available: number;
  leaked: number;
  /** "ok", "query failed", or "pool exhausted". */
  outcome: "ok" | "query failed" | "pool exhausted";
  /** The error message, when the request failed. */
  error?: string;
  traceId: string;
}

/** Options for {@linkcode runProgression}. */
export interface ProgressionOptions {
  pool: TracedPool;
  /** The request handler: `badQueryWithLeak` or `goodQueryNoLeak`, bound to its faults. */
  handler: () => Promise<unknown>;
  /** How many requests. @default 10 */
  requests?: number;
  /** Span name of each request. @default "scenario.request" */
  spanName?: string;
  /** @default trace.getTracer("leak-lab") */
  tracer?: Tracer;
  /** Called after each request, e.g. to print the row. */
  onRow?: (row: ProgressionRow) => void;
  /** Each request in a trace of its own, as separate HTTP requests would be (see {@linkcode RequestSeriesOptions.root}). @default false */
  root?: boolean;
}

/**
 * The original demo's progression table: runs the handler `requests` times
 * and records the pool's counters after each request.
 *
 * @example
 * ```ts ignore
 * import { runProgression } from "./request_series.ts";
 * const rows = await runProgression({ pool, handler: () => badQueryWithLeak(pool, faults) });
 * console.table(rows);
 * ```
 */
export async function runProgression(options: ProgressionOptions): Promise<ProgressionRow[]> {
  const rows: ProgressionRow[] = [];
  await runRequests({
    count: options.requests ?? 10,
    send: options.handler,
    tracer: options.tracer,
    spanName: options.spanName ?? "scenario.request",
    root: options.root,
    onOutcome: ({ request, traceId, ok, error }) => {
      const { active, available, leaked } = options.pool.stats();
      const row: ProgressionRow = {
        request,
        active,
        available,
        leaked,
        outcome: ok ? "ok" : (error as Error)?.name === "PoolExhaustedError" ? "pool exhausted" : "query failed",
        ...(ok ? {} : { error: error instanceof Error ? error.message : String(error) }),
        traceId,
      };
      rows.push(row);
      options.onRow?.(row);
    },
  });
  return rows;
}
