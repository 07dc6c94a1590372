// Mistake: decides by comparing the number of get_connection and return_connection spans, but a double release opens a return_connection span with no connection_returned_safely, so a trace that released one lease twice and never returned the other passes as healthy.
// Expect: "but it took no connection at all"
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
  const byTrace = new Map<string, ReadableSpan[]>();
  for (const span of spans) {
    const traceId = span.spanContext().traceId;
    byTrace.set(traceId, [...(byTrace.get(traceId) ?? []), span]);
  }
  const found: LeakingTrace[] = [];
  for (const [traceId, trace] of byTrace) {
    const gets = trace.filter((s) => s.name === "get_connection").length;
    const returns = trace.filter((s) => s.name === "return_connection").length;
    if (returns >= gets) continue;
    const acquired = leaseIdsIn(trace, "connection_acquired");
    const returned = new Set(leaseIdsIn(trace, "connection_returned_safely"));
    found.push({ traceId, leaseIds: acquired.filter((id) => !returned.has(id)) });
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
