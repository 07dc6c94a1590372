// Mistake: emits one entry per unreturned connection rather than per trace, so a request that leaked two connections appears twice instead of once with both lease ids.
// Expect: "more than once"
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
  const returned = new Map<string, Set<number>>();
  for (const span of spans) {
    for (const event of span.events) {
      if (event.name !== "connection_returned_safely") continue;
      const traceId = span.spanContext().traceId;
      returned.set(traceId, (returned.get(traceId) ?? new Set()).add(Number(event.attributes?.["lease.id"])));
    }
  }
  const found: LeakingTrace[] = [];
  for (const span of spans) {
    for (const event of span.events) {
      if (event.name !== "connection_acquired") continue;
      const traceId = span.spanContext().traceId;
      const leaseId = Number(event.attributes?.["lease.id"]);
      if (!returned.get(traceId)?.has(leaseId)) found.push({ traceId, leaseIds: [leaseId] });
    }
  }
  return found;
}
