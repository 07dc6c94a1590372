// Correct: replays every acquire/return event in time order as a pool would see it, so whatever is still held at the end is exactly the leaked leases, then groups them by acquiring trace with ids ascending.
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
  const nanos = ([s, ns]: [number, number]) => BigInt(s) * 1_000_000_000n + BigInt(ns);
  const timeline = spans
    .flatMap((span) => span.events.map((event) => ({ traceId: span.spanContext().traceId, event })))
    .filter(({ event }) => event.name === "connection_acquired" || event.name === "connection_returned_safely")
    .sort((a, b) => {
      const d = nanos(a.event.time) - nanos(b.event.time);
      return d < 0n ? -1 : d > 0n ? 1 : 0;
    });
  const held = new Map<string, { traceId: string; leaseId: number }>(); // pool#lease -> acquiring trace
  for (const { traceId, event } of timeline) {
    const leaseId = Number(event.attributes?.["lease.id"]);
    const key = `${String(event.attributes?.["db.client.connection.pool.name"] ?? "")}#${leaseId}`;
    if (event.name === "connection_acquired") held.set(key, { traceId, leaseId });
    else held.delete(key);
  }
  const grouped: Record<string, number[]> = {};
  for (const { leaseId, traceId } of held.values()) (grouped[traceId] ??= []).push(leaseId);
  return Object.entries(grouped).map(([traceId, ids]) => ({ traceId, leaseIds: ids.sort((a, b) => a - b) }));
}
