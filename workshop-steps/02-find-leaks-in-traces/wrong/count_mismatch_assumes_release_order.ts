// Mistake: counts returns per trace and assumes the first connections taken are the ones returned, so it names the wrong lease when a request returns its second connection and leaks its first.
// Expect: "List only the connections that stayed out"
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
    const acquired = leaseIdsIn(trace, "connection_acquired");
    const returnedCount = leaseIdsIn(trace, "connection_returned_safely").length;
    // Connections come back in the order they were taken: the missing ones are the last ones.
    if (returnedCount < acquired.length) found.push({ traceId, leaseIds: acquired.slice(returnedCount) });
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
