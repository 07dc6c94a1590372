/**
 * The shapes the pool reports: counters, samples for plots, leak reports.
 *
 * @module
 */
import type { Attributes, SpanKind } from "../util/public_types.ts";

// The third-party types in the pool's signatures, as documented aliases (see util/public_types.ts).
export type * from "../util/public_types.ts";

/** The pool's counters at one moment. */
export interface PoolStats {
  /** Most connections the pool will hold. */
  max: number;
  /** Connections open now (idle + checked out). */
  total: number;
  /** Open connections waiting in the pool. */
  idle: number;
  /** Leases out, leaked ones included. */
  active: number;
  /** `max - active`: how many more leases could be handed out. */
  available: number;
  /** Leases detected as leaked and not returned since. */
  leaked: number;
  /** `acquire()` calls queued for a connection. */
  waiting: number;
}

/** A lease that holds a connection, as named in an exhaustion report. */
export interface Holder {
  /** The lease's id, as in `connection #<id>` and the `lease.id` attribute. */
  leaseId: number;
  /** Backend process id, to find it in `pg_stat_activity`. */
  pid: number;
  /** How long it has been out. */
  ageMs: number;
  /** `file:line:column` of the `acquire()` call, or why it was not captured. */
  site: string;
  /** Whether `site` is a captured `file:line:column`. */
  siteCaptured: boolean;
  /** The `pool.scope()` it was acquired in, if any. */
  scope?: string;
  /** The trace that acquired it; absent when no OpenTelemetry SDK is installed. */
  traceId?: string;
  /** Whether it has been reported leaked. */
  leaked: boolean;
}

/** What changed when a {@linkcode PoolSample} was taken. */
export type PoolChange = "wait" | "acquire" | "release" | "leak" | "reclaim" | "lost" | "timeout";

/** The pool's counters right after one lease changed state. */
export interface PoolSample extends PoolStats {
  /** Wall-clock milliseconds. */
  at: number;
  /** What happened. */
  change: PoolChange;
  /** The lease it happened to, if one. */
  leaseId?: number;
}

/** A lease detected as leaked and still out. */
export interface LeakReport {
  /** The lease's id, as in `connection #<id>` and the `lease.id` attribute. */
  leaseId: number;
  /** Backend process id, to find it in `pg_stat_activity`. */
  pid: number;
  /** How long it has been out. */
  ageMs: number;
  /** When it was acquired, as an ISO date. */
  acquiredAt: string;
  /**
   * The trace and `get_connection` span that handed it out (the request's
   * span when the request was not sampled); absent when no OpenTelemetry SDK
   * is installed: never the all-zero trace id.
   */
  traceId?: string;
  /** The span id beside `traceId`. */
  spanId?: string;
  /** The `pool.scope()` it was acquired in, if any. */
  scope?: string;
  /** `file:line:column` of the `acquire()` call, and its whole stack. */
  site: string;
  /** The `acquire()` call's whole stack. */
  stack: string;
}

/** Options for {@linkcode TracedPool.scope}. */
export interface ScopeOptions {
  /** Set on the scope's span. @default none */
  attributes?: Attributes;
  /** The span's kind: SERVER for a request's own span. @default SpanKind.INTERNAL */
  kind?: SpanKind;
}
