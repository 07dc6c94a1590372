// Correct: one pass keeps a per-trace balance per lease (+1 on connection_acquired, -1 on connection_returned_safely) and reports the leases whose balance stays positive, sorted numerically; failure status is never consulted.
import type { ReadableSpan } from "@opentelemetry/sdk-trace-base";

/** A trace (one request) that took connections and never gave them back. */
export interface LeakingTrace {
  traceId: string;
  /** The `lease.id` of every connection it took and did not return, ascending. */
  leaseIds: number[];
}

/** The traces among `spans` that leaked at least one connection. */
export function findLeakingTraces(spans: readonly ReadableSpan[]): LeakingTrace[] {
  const balance = new Map<string, Map<number, number>>();
  for (const span of spans) {
    const traceId = span.spanContext().traceId;
    for (const event of span.events) {
      const delta = event.name === "connection_acquired" ? 1 : event.name === "connection_returned_safely" ? -1 : 0;
      if (delta === 0) continue;
      const id = Number(event.attributes?.["lease.id"]);
      const leases = balance.get(traceId) ?? new Map<number, number>();
      leases.set(id, (leases.get(id) ?? 0) + delta);
      balance.set(traceId, leases);
    }
  }
  const found: LeakingTrace[] = [];
  for (const [traceId, leases] of balance) {
    const leaseIds = [...leases].filter(([, n]) => n > 0).map(([id]) => id).sort((a, b) => a - b);
    if (leaseIds.length) found.push({ traceId, leaseIds });
  }
  return found;
}
