// Correct: builds per-trace sets of acquired and returned lease ids in one reduce and reports the set difference, sorted numerically, for traces where it is non-empty; status is ignored entirely.
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
  type Sets = { acquired: Set<number>; returned: Set<number> };
  const perTrace = spans.reduce((acc, span) => {
    const traceId = span.spanContext().traceId;
    const sets = acc.get(traceId) ?? { acquired: new Set<number>(), returned: new Set<number>() };
    for (const { name, attributes } of span.events) {
      const id = Number(attributes?.["lease.id"]);
      if (name === "connection_acquired") sets.acquired.add(id);
      if (name === "connection_returned_safely") sets.returned.add(id);
    }
    return acc.set(traceId, sets);
  }, new Map<string, Sets>());
  return [...perTrace.entries()]
    .map(([traceId, { acquired, returned }]) => ({
      traceId,
      leaseIds: [...acquired].filter((id) => !returned.has(id)).sort((a, b) => a - b),
    }))
    .filter(({ leaseIds }) => leaseIds.length > 0);
}
