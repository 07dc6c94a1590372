// Correct: reads connection_acquired only on get_connection spans and connection_returned_safely only on return_connection spans, as the module doc says, with two sets per trace.
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
  const taken = new Map<string, Set<number>>();
  const given = new Map<string, Set<number>>();
  const add = (map: Map<string, Set<number>>, traceId: string, id: number) => {
    let set = map.get(traceId);
    if (!set) map.set(traceId, set = new Set());
    set.add(id);
  };
  for (const span of spans) {
    const traceId = span.spanContext().traceId;
    for (const event of span.events) {
      const id = Number(event.attributes?.["lease.id"]);
      if (span.name === "get_connection" && event.name === "connection_acquired") add(taken, traceId, id);
      if (span.name === "return_connection" && event.name === "connection_returned_safely") add(given, traceId, id);
    }
  }
  const found: LeakingTrace[] = [];
  for (const [traceId, ids] of taken) {
    const back = given.get(traceId) ?? new Set<number>();
    const kept = [...ids].filter((id) => !back.has(id));
    if (kept.length === 0) continue;
    kept.sort((a, b) => a - b);
    found.push({ traceId, leaseIds: kept });
  }
  return found;
}
