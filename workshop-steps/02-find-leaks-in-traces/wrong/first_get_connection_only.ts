// Mistake: looks only at the first get_connection span of each trace, so a request that took two connections and leaked only its second (or leaked both) is missed or reported with one lease id only.
// Expect: "another connection of the same request"
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
    const get = trace.find((span) => span.name === "get_connection");
    const acquiredEvent = get?.events.find((e) => e.name === "connection_acquired");
    if (!acquiredEvent) continue;
    const leaseId = Number(acquiredEvent.attributes?.["lease.id"]);
    if (!leaseIdsIn(trace, "connection_returned_safely").includes(leaseId)) {
      found.push({ traceId, leaseIds: [leaseId] });
    }
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
