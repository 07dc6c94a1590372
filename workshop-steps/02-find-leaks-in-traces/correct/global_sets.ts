// Correct: one pool-wide set of returned lease ids (ids are unique in the pool), then the kept ones grouped by the trace of their connection_acquired.
/**
 * Step 2: find the leaking requests in traces — a correct attempt in another style, kept so CI proves the checkpoint
 * accepts it.
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
  const returned = new Set<number>();
  const acquiredIn = new Map<number, string>();
  for (const span of spans) {
    for (const event of span.events) {
      const id = event.attributes?.["lease.id"];
      if (typeof id !== "number") continue;
      if (event.name === "connection_returned_safely") returned.add(id);
      if (event.name === "connection_acquired") acquiredIn.set(id, span.spanContext().traceId);
    }
  }
  const kept = new Map<string, number[]>();
  for (const [id, traceId] of acquiredIn) {
    if (!returned.has(id)) kept.set(traceId, [...(kept.get(traceId) ?? []), id]);
  }
  return [...kept].map(([traceId, ids]) => ({ traceId, leaseIds: ids.toSorted((a, b) => a - b) }));
}
