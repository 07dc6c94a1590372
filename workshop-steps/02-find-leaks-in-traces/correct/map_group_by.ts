// Correct: flattens every pool event with its trace, groups them with Map.groupBy, and keeps the acquires with no return of the same lease.id.
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

interface PoolEvent {
  traceId: string;
  name: string;
  leaseId: number;
}

/** The traces among `spans` that leaked at least one connection. */
export function findLeakingTraces(spans: readonly ReadableSpan[]): LeakingTrace[] {
  const events: PoolEvent[] = spans.flatMap((span) =>
    span.events.map((event) => ({
      traceId: span.spanContext().traceId,
      name: event.name,
      leaseId: Number(event.attributes?.["lease.id"]),
    }))
  );
  return [...Map.groupBy(events, (event) => event.traceId)].flatMap(([traceId, list]) => {
    const back = list.filter((e) => e.name === "connection_returned_safely").map((e) => e.leaseId);
    const leaseIds = list
      .filter((e) => e.name === "connection_acquired" && !back.includes(e.leaseId))
      .map((e) => e.leaseId)
      .sort((a, b) => a - b);
    return leaseIds.length > 0 ? [{ traceId, leaseIds }] : [];
  });
}
