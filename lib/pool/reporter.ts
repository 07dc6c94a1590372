/**
 * What the pool says about leases that go wrong: a warning through the
 * pool's `log` and a span or event in the lease's trace, for each leak, late
 * return ("unleaked"), lost connection and forced close.
 *
 * Kept apart from `pool.ts` so the pool reads as state changes only; every
 * call here follows one of them.
 *
 * @module
 */
import {
  type Attributes,
  type Context,
  ROOT_CONTEXT,
  type Span,
  type SpanContext,
  SpanStatusCode,
  trace,
  TraceFlags,
  type Tracer,
} from "@opentelemetry/api";
import type { PoolExhaustedError } from "./errors.ts";
import type { LeakScope, Lease } from "./lease.ts";
import { spanTime } from "../util/span_time.ts";
import { EXHAUSTED_ATTRIBUTE, LEAK_ATTRIBUTE, POOL_EVENTS, POOL_SPANS } from "./trace_names.ts";

export class PoolReporter {
  #droppedReported = false;

  /**
   * @param poolName names the pool in messages
   * @param poolAttributes identify the pool on spans
   * @param tracer makes the report spans
   * @param log receives the warnings
   */
  constructor(
    readonly poolName: string,
    readonly poolAttributes: Attributes,
    readonly tracer: Tracer,
    readonly log: (message: string) => void,
  ) {}

  /** A lease was just marked leaked; `why` completes "connection #N was …". */
  leaked(lease: Lease, why: string): void {
    this.log(
      `Connection leak detected in pool "${this.poolName}": connection #${lease.id} (backend pid ${lease.pid}) ` +
        `was ${why}. ${
          lease.siteCaptured ? `It was acquired at:\n${lease.stack}` : `It was acquired ${lease.stack.trim()}.`
        }`,
    );
  }

  /**
   * Marks the span of the scope the lease outlived as leaking, with a
   * `connection_leaked` event; when that span records nothing (the request
   * was not sampled), exports a leak span in the request's trace instead.
   */
  outlivedScope(lease: Lease, scope: LeakScope, leakedNow: number): void {
    if (scope.span?.isRecording()) markLeak(scope.span, lease, leakedNow);
    // Recorded but not sampled (a caller's traceparent said "00"): kept in memory only, so export a report too.
    if (!isSampled(scope.span)) this.#leakSpan(lease, leakedNow);
  }

  /**
   * The lease arrived after its scope had ended (an acquire() nobody
   * awaited): the scope's span is closed, so its own `get_connection` span,
   * still open, carries the leak (or a leak span, if that one records nothing).
   */
  arrivedAfterScope(lease: Lease, scope: LeakScope, acquireSpan: Span | undefined, leakedNow: number): void {
    const extra = { "leaklab.scope": scope.name };
    if (acquireSpan?.isRecording()) markLeak(acquireSpan, lease, leakedNow, extra);
    if (!isSampled(acquireSpan)) this.#leakSpan(lease, leakedNow, extra);
  }

  /** A `connection_leak_detected` span in the lease's own trace, for the threshold watch. */
  overThreshold(lease: Lease, leakedNow: number): void {
    this.#leakSpan(lease, leakedNow);
  }

  /**
   * Ends a failed acquire's span, an exhaustion marked as one; an exhaustion
   * whose span is not exported is reported in a span that is (see `exhausted`).
   */
  acquireFailed(failure: Error, span: Span | undefined, request: SpanContext | undefined, startedAt: number): void {
    const exhausted = failure.name === "PoolExhaustedError";
    const sampled = isSampled(span);
    if (span?.isRecording()) {
      span.setAttribute("error.type", failure.name);
      if (exhausted) span.setAttribute(EXHAUSTED_ATTRIBUTE, true);
      span.setStatus({ code: SpanStatusCode.ERROR, message: failure.message });
      span.end(spanTime(performance.now()));
    }
    if (exhausted && !sampled) this.exhausted(failure as PoolExhaustedError, request, startedAt); // no sampler hides it
  }

  /**
   * An acquire in a request whose `get_connection` records nothing timed out:
   * a `get_connection` span with the error, exported in the request's trace.
   */
  exhausted(error: PoolExhaustedError, request: SpanContext | undefined, startedAt: number): void {
    const attributes = { ...this.poolAttributes, [EXHAUSTED_ATTRIBUTE]: true, "error.type": error.name };
    const span = this.tracer.startSpan(
      POOL_SPANS.acquire,
      { attributes, startTime: spanTime(startedAt) },
      sampled(request),
    );
    span.setStatus({ code: SpanStatusCode.ERROR, message: error.message });
    this.#noteDropped(span, request);
    span.end(spanTime(performance.now()));
  }

  /**
   * A `connection_leak_detected` span about `lease`, under the span that
   * handed it out, or the request's. Its parent context is marked sampled and
   * the span carries `leaklab.leak=true` from its start, so a parent-based
   * sampler, and `keepLeaks()` around any other, keep it even when the
   * request itself was not sampled: no sampler hides a leak.
   */
  #leakSpan(lease: Lease, leakedNow: number, extra: Attributes = {}): void {
    const attributes: Attributes = {
      ...this.poolAttributes,
      [LEAK_ATTRIBUTE]: true,
      "lease.id": lease.id,
      "lease.pid": lease.pid,
      ...(lease.siteCaptured ? { "lease.acquire_site": lease.site } : {}),
      ...(lease.scopeName ? { "leaklab.scope": lease.scopeName } : {}),
    };
    const now = spanTime(performance.now());
    const span = this.tracer.startSpan(POOL_SPANS.leakDetected, { attributes, startTime: now }, sampled(lease.span));
    markLeak(span, lease, leakedNow, extra);
    this.#noteDropped(span, lease.span);
    span.end(now);
  }

  /** Says once, when an SDK is installed, that its sampler dropped a span no sampler should. */
  #noteDropped(span: Span, request: SpanContext | undefined): void {
    if (span.isRecording() || !request || this.#droppedReported) return;
    this.#droppedReported = true;
    this.log(
      `Pool "${this.poolName}" could not record a leak or exhaustion in trace ${request.traceId}: the tracer's ` +
        `sampler dropped its span. Wrap your sampler in keepLeaks() (leak-lab's telemetry module) so no leak is ` +
        `ever sampled away; setupTelemetry() does that for its own.`,
    );
  }

  /** A leaked lease came back after all. */
  unleaked(lease: Lease, heldMs: number, returnSpan: Span | undefined): void {
    const held = Math.round(heldMs);
    this.log(`Previously reported leaked connection #${lease.id} was returned to the pool (unleaked) after ${held}ms.`);
    returnSpan?.addEvent(POOL_EVENTS.unleaked, { "lease.id": lease.id, "lease.held_ms": held });
  }

  /** The server closed a leased connection. */
  lost(lease: Lease, error: Error): void {
    const attributes = { ...this.poolAttributes, "lease.id": lease.id };
    const parent = lease.span ? trace.setSpanContext(ROOT_CONTEXT, lease.span) : ROOT_CONTEXT; // sampled as its trace is
    const now = spanTime(performance.now());
    const span = this.tracer.startSpan(POOL_SPANS.lost, { attributes, startTime: now }, parent);
    span.setStatus({ code: SpanStatusCode.ERROR, message: error.message });
    span.end(now);
    this.log(
      `Connection #${lease.id} (backend pid ${lease.pid}) was closed by the server while in use and removed from ` +
        `pool "${this.poolName}": ${error.message}`,
    );
  }

  /** `end()` is closing leases that are still out. */
  closingOutstanding(leases: Lease[]): void {
    if (leases.length === 0) return;
    const out = leases.map((lease) => `#${lease.id} from ${lease.site}`).join(", ");
    this.log(`Ending pool "${this.poolName}" with ${leases.length} connection(s) still out, closing them: ${out}`);
  }
}

/** The pool counts carried by `connection_acquired` and `connection_returned_safely`. */
export function poolEventAttributes(
  poolName: string,
  leaseId: number,
  max: number,
  active: number,
  leaked: number,
  waiting: number,
): Attributes {
  // Few attributes on purpose: the SDK validates each one, twice per lease.
  return {
    "db.client.connection.pool.name": poolName,
    "lease.id": leaseId,
    "pool.active": active,
    "pool.available": max - active,
    "pool.leaked": leaked,
    "pool.waiting": waiting,
  };
}

/** Tags `span` as leaking (what a Jaeger search finds) and records the `connection_leaked` event on it. */
function markLeak(span: Span, lease: Lease, leakedNow: number, extra: Attributes = {}): void {
  if (!span.isRecording()) return;
  span.setAttribute(LEAK_ATTRIBUTE, true);
  span.addEvent(POOL_EVENTS.leaked, { leaked_connections: leakedNow, ...lease.leakAttributes(), ...extra });
}

/** Whether `span` records and will be exported (its trace is sampled). */
export function isSampled(span: Span | undefined): boolean {
  return !!span && span.isRecording() && (span.spanContext().traceFlags & TraceFlags.SAMPLED) !== 0;
}

/**
 * A parent for a later span about a lease: the span that handed it out (or
 * the request's), marked sampled, so the report joins that trace even when
 * the request itself was not sampled.
 */
function sampled(parent: SpanContext | undefined): Context {
  if (!parent) return ROOT_CONTEXT;
  return trace.setSpanContext(ROOT_CONTEXT, { ...parent, traceFlags: parent.traceFlags | TraceFlags.SAMPLED });
}
