// Mistake: pairs acquires with returns under the same parent span instead of the same trace, so a connection released inside a child span looks leaked and a trace with leaks under two parents is reported twice.
// Expect: "different parent spans"
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
  // get_connection and return_connection are siblings under the request's scope span.
  const byParent = new Map<string, { traceId: string; spans: ReadableSpan[] }>();
  for (const span of spans) {
    const { traceId, spanId } = span.spanContext();
    const parent = span.parentSpanContext?.spanId ?? spanId;
    const key = `${traceId}/${parent}`;
    const group = byParent.get(key) ?? { traceId, spans: [] };
    group.spans.push(span);
    byParent.set(key, group);
  }
  const found: LeakingTrace[] = [];
  for (const { traceId, spans: group } of byParent.values()) {
    const returned = new Set(leaseIdsIn(group, "connection_returned_safely"));
    const leaseIds = leaseIdsIn(group, "connection_acquired").filter((id) => !returned.has(id));
    if (leaseIds.length > 0) found.push({ traceId, leaseIds });
  }
  return found;
}

/** The `lease.id` attribute of every event named `eventName` in these spans, ascending. */
function leaseIdsIn(spans: readonly ReadableSpan[], eventName: string): number[] {
  return spans
    .flatMap((span) => span.events.filter((event) => event.name === eventName))
    .map((event) => Number(event.attributes?.["lease.id"]))
    .sort((a, b) => a - b);
}
