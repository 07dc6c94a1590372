/**
 * Runs a handler N times and records the pool after each request: the
 * original demo's progression table (request, active, available, leaked,
 * outcome), with each request's trace id.
 *
 * @module
 */
import { context, SpanStatusCode, trace, type Tracer } from "@opentelemetry/api";
import type { TracedPool } from "./pool.ts";

/** One request of a progression. */
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
  /** Root span name of each request. @default "scenario.request" */
  spanName?: string;
  /** @default trace.getTracer("leak-lab") */
  tracer?: Tracer;
  /** Called after each request, e.g. to print the row. */
  onRow?: (row: ProgressionRow) => void;
}

/**
 * Runs the requests one after another, each under its own root span.
 *
 * @example
 * ```ts ignore
 * import { runProgression } from "./progression.ts";
 * const rows = await runProgression({ pool, handler: () => badQueryWithLeak(pool, faults) });
 * console.table(rows);
 * ```
 */
export async function runProgression(options: ProgressionOptions): Promise<ProgressionRow[]> {
  const tracer = options.tracer ?? trace.getTracer("leak-lab");
  const rows: ProgressionRow[] = [];
  for (let request = 1; request <= (options.requests ?? 10); request++) {
    const span = tracer.startSpan(options.spanName ?? "scenario.request", {
      attributes: { "leaklab.request": request },
    });
    let outcome: ProgressionRow["outcome"] = "ok";
    let error: string | undefined;
    try {
      await context.with(trace.setSpan(context.active(), span), options.handler);
    } catch (caught) {
      error = caught instanceof Error ? caught.message : String(caught);
      outcome = (caught as Error)?.name === "PoolExhaustedError" ? "pool exhausted" : "query failed";
      span.setStatus({ code: SpanStatusCode.ERROR, message: error });
    } finally {
      span.end();
    }
    const { active, available, leaked } = options.pool.stats();
    const row: ProgressionRow = {
      request,
      active,
      available,
      leaked,
      outcome,
      ...(error ? { error } : {}),
      traceId: span.spanContext().traceId,
    };
    rows.push(row);
    options.onRow?.(row);
  }
  return rows;
}
