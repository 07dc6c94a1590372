// Mistake: walks the spans in array order, adding a lease at its acquire and deleting it at its return: a return that comes first in the array is lost.
// Expect: "The spans come in no particular order"
/**
 * Step 2: find the leaking requests in traces — a known-wrong attempt, kept so CI proves the checkpoint rejects it.
 *
 * @module
 */
import type { ReadableSpan } from "@opentelemetry/sdk-trace-base";

/** A trace (one request) that took connections and never gave them back. */
export interface LeakingTrace {
  traceId: string;
  leaseIds: number[];
}

/** The traces among `spans` that leaked at least one connection. */
export function findLeakingTraces(spans: readonly ReadableSpan[]): LeakingTrace[] {
  const out = new Map<string, Set<number>>();
  for (const span of spans) {
    const traceId = span.spanContext().traceId;
    const held = out.get(traceId) ?? new Set<number>();
    out.set(traceId, held);
    for (const event of span.events) {
      const id = Number(event.attributes?.["lease.id"]);
      if (event.name === "connection_acquired") held.add(id);
      if (event.name === "connection_returned_safely") held.delete(id);
    }
  }
  return [...out]
    .filter(([, held]) => held.size > 0)
    .map(([traceId, held]) => ({ traceId, leaseIds: [...held].sort((a, b) => a - b) }));
}
