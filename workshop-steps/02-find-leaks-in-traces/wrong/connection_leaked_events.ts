// Mistake: reads the leases from `connection_leaked` events, which only pool.scope() (or the 30 s threshold) records, so a connection taken outside any scope and never returned is missed.
// Expect: "so no connection_leaked event marks it"
/**
 * Step 2: find the leaking requests in traces, as you would in Jaeger.
 *
 * Every request is one trace. The pool records, on its spans:
 * `get_connection` → event `connection_acquired` (attribute `lease.id`), and
 * `return_connection` → event `connection_returned_safely` (same `lease.id`).
 *
 * @module
 */
import type { ReadableSpan } from "@opentelemetry/sdk-trace-base";

/** A trace (one request) that took connections and never gave them back. */
export interface LeakingTrace {
  traceId: string;
  /** The `lease.id` of every connection it took and did not return, ascending. */
  leaseIds: number[];
}

/** The traces among `spans` that leaked at least one connection. */
export function findLeakingTraces(spans: readonly ReadableSpan[]): LeakingTrace[] {
  const byTrace = new Map<string, Set<number>>();
  for (const span of spans) {
    for (const event of span.events) {
      if (event.name !== "connection_leaked") continue;
      const traceId = span.spanContext().traceId;
      const ids = byTrace.get(traceId) ?? new Set<number>();
      ids.add(Number(event.attributes?.["lease.id"]));
      byTrace.set(traceId, ids);
    }
  }
  return [...byTrace].map(([traceId, ids]) => ({ traceId, leaseIds: [...ids].sort((a, b) => a - b) }));
}
