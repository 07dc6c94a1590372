// Mistake: it pushes one entry per unreturned lease instead of one per trace, so a request that kept two connections is named twice, each time with a single lease id.
// Expect: "more than once"
import type { ReadableSpan } from "@opentelemetry/sdk-trace-base";

/** A trace (one request) that took connections and never gave them back. */
export interface LeakingTrace {
  traceId: string;
  /** The `lease.id` of every connection it took and did not return, ascending. */
  leaseIds: number[];
}

/** The traces among `spans` that leaked at least one connection. */
export function findLeakingTraces(spans: readonly ReadableSpan[]): LeakingTrace[] {
  const acquired = new Map<number, string>(); // lease id → trace that took it
  const returned = new Set<number>();
  for (const span of spans) {
    for (const event of span.events) {
      const id = Number(event.attributes?.["lease.id"]);
      if (event.name === "connection_acquired") acquired.set(id, span.spanContext().traceId);
      if (event.name === "connection_returned_safely") returned.add(id);
    }
  }
  return [...acquired]
    .filter(([id]) => !returned.has(id))
    .sort(([a], [b]) => a - b)
    .map(([id, traceId]) => ({ traceId, leaseIds: [id] }));
}
