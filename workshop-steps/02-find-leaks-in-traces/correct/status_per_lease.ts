// Correct: one pass records, per trace and lease, whether it came back; a return seen before its acquire still counts.
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
  const traces = new Map<string, Map<number, { taken: boolean; back: boolean }>>();
  for (const span of spans) {
    const traceId = span.spanContext().traceId;
    if (!traces.has(traceId)) traces.set(traceId, new Map());
    const leases = traces.get(traceId)!;
    for (const { name, attributes } of span.events) {
      if (name !== "connection_acquired" && name !== "connection_returned_safely") continue;
      const id = Number(attributes?.["lease.id"]);
      const lease = leases.get(id) ?? { taken: false, back: false };
      if (name === "connection_acquired") lease.taken = true;
      else lease.back = true;
      leases.set(id, lease);
    }
  }
  const result: LeakingTrace[] = [];
  traces.forEach((leases, traceId) => {
    const leaseIds = [...leases].filter(([, l]) => l.taken && !l.back).map(([id]) => id).sort((a, b) => a - b);
    if (leaseIds.length) result.push({ traceId, leaseIds });
  });
  return result;
}
