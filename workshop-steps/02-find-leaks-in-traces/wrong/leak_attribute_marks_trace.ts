// Mistake: picks traces by the `leaklab.leak` span attribute (the Jaeger tag search), which only a pool.scope() end or the threshold watch sets, so a leak outside any scope (the background job) is never found.
// Expect: "so no connection_leaked event marks it"
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
    // What Jaeger's tag search finds: leaklab.leak=true on the span the lease outlived.
    if (!trace.some((span) => span.attributes["leaklab.leak"] === true)) continue;
    const returned = new Set(leaseIdsIn(trace, "connection_returned_safely"));
    const leaseIds = leaseIdsIn(trace, "connection_acquired").filter((id) => !returned.has(id));
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
