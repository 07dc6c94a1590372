// Correct: keeps one ledger of outstanding leases keyed by pool name and lease id across all spans, removes each on its connection_returned_safely, then groups what is left by the trace that acquired it, so each leaking trace appears once with its unreturned ids ascending.
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
  const outstanding = new Map<string, { traceId: string; leaseId: number }>();
  const key = (attrs: Record<string, unknown> | undefined) =>
    `${String(attrs?.["db.client.connection.pool.name"] ?? "")}#${Number(attrs?.["lease.id"])}`;
  const events = spans.flatMap((span) => span.events.map((event) => ({ span, event })));
  for (const { span, event } of events) {
    if (event.name === "connection_acquired") {
      outstanding.set(key(event.attributes), {
        traceId: span.spanContext().traceId,
        leaseId: Number(event.attributes?.["lease.id"]),
      });
    }
  }
  for (const { event } of events) {
    if (event.name === "connection_returned_safely") outstanding.delete(key(event.attributes));
  }
  const byTrace = new Map<string, number[]>();
  for (const { traceId, leaseId } of outstanding.values()) {
    byTrace.set(traceId, [...(byTrace.get(traceId) ?? []), leaseId]);
  }
  return [...byTrace].map(([traceId, ids]) => ({ traceId, leaseIds: ids.sort((a, b) => a - b) }));
}
