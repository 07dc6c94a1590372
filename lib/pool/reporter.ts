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
import { type Attributes, ROOT_CONTEXT, type Span, SpanStatusCode, trace, type Tracer } from "@opentelemetry/api";
import type { LeakScope, Lease } from "./lease.ts";
import { LEAK_ATTRIBUTE, POOL_EVENTS, POOL_SPANS } from "./trace_names.ts";

export class PoolReporter {
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

  /** Marks the span of the scope the lease outlived as leaking, with a `connection_leaked` event. */
  outlivedScope(lease: Lease, scope: LeakScope, leakedNow: number): void {
    markLeak(scope.span, lease, leakedNow);
  }

  /**
   * The lease arrived after its scope had ended (an acquire() nobody
   * awaited): the scope's span is closed, so its own `get_connection` span,
   * still open, carries the leak.
   */
  arrivedAfterScope(lease: Lease, scope: LeakScope, acquireSpan: Span, leakedNow: number): void {
    markLeak(acquireSpan, lease, leakedNow, { "leaklab.scope": scope.name });
  }

  /** A `connection_leak_detected` span in the lease's own trace, for the threshold watch. */
  overThreshold(lease: Lease, leakedNow: number): void {
    const span = this.tracer.startSpan(POOL_SPANS.leakDetected, { attributes: this.poolAttributes }, under(lease));
    markLeak(span, lease, leakedNow);
    span.end();
  }

  /** A leaked lease came back after all. */
  unleaked(lease: Lease, heldMs: number, returnSpan: Span): void {
    const held = Math.round(heldMs);
    this.log(`Previously reported leaked connection #${lease.id} was returned to the pool (unleaked) after ${held}ms.`);
    returnSpan.addEvent(POOL_EVENTS.unleaked, { "lease.id": lease.id, "lease.held_ms": held });
  }

  /** The server closed a leased connection. */
  lost(lease: Lease, error: Error): void {
    const attributes = { ...this.poolAttributes, "lease.id": lease.id };
    const span = this.tracer.startSpan(POOL_SPANS.lost, { attributes }, under(lease));
    span.setStatus({ code: SpanStatusCode.ERROR, message: error.message });
    span.end();
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

/** Makes a later span about `lease` a child of the `get_connection` that handed it out. */
function under(lease: Lease) {
  return trace.setSpanContext(ROOT_CONTEXT, lease.span);
}
