/**
 * What the demo app needs from its database side, kept narrow so it can be
 * swapped: a TracedPool with the original demo's two handlers in the service
 * (`tracedHandlers`), a raw pg.Pool adapter with its own handlers in the
 * benchmark's baseline. The app never needs more than this interface.
 *
 * @module
 */
import type { Span } from "@opentelemetry/api";
import type { FaultSchedule } from "../demo/fault_schedule.ts";
import { badQueryWithLeak, goodQueryNoLeak } from "../demo/query_handlers.ts";
import type { PoolStats, ScopeOptions, TracedPool } from "../pool.ts";

/** The pool as the app sees it. {@linkcode TracedPool} fits as is. */
export interface DemoPool {
  readonly name: string;
  /** How long a request waits for a connection before it gets 503. */
  readonly acquireTimeoutMs: number;
  stats(): PoolStats;
  /** Reclaims leaked connections; returns how many. */
  reset(): number;
  /** Runs one request in a span that reports connections it failed to return. */
  scope<T>(name: string, fn: (span: Span) => T | Promise<T>, options?: ScopeOptions): Promise<T>;
}

/** The two endpoints' work: the same query, the same failures, different cleanup. */
export interface DemoHandlers {
  /** `bad_query_with_leak`: the connection is returned only on success. */
  bad(): Promise<unknown[]>;
  /** `good_query_no_leak`: the connection is returned on every path. */
  good(): Promise<unknown[]>;
}

/**
 * The original demo's handlers over a TracedPool, sharing one fault schedule.
 *
 * @example
 * ```ts ignore
 * const handlers = tracedHandlers(pool, new FaultSchedule({ failEvery: 2 }));
 * await handlers.good(); // rows, connection returned
 * ```
 */
export function tracedHandlers(pool: TracedPool, faults: FaultSchedule): DemoHandlers {
  return {
    bad: () => badQueryWithLeak(pool, faults),
    good: () => goodQueryNoLeak(pool, faults),
  };
}
