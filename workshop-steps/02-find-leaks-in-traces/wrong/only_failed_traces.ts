// Mistake: it narrows the search to traces with an ERROR span before matching acquires with returns, so a leak in a request that did not fail (the background job's trace has no error) is missed.
// Expect: "a leak need not come with an error"
import { SpanStatusCode } from "@opentelemetry/api";
import type { ReadableSpan } from "@opentelemetry/sdk-trace-base";

/** A trace (one request) that took connections and never gave them back. */
export interface LeakingTrace {
  traceId: string;
  /** The `lease.id` of every connection it took and did not return, ascending. */
  leaseIds: number[];
}

/** The traces among `spans` that leaked at least one connection. */
export function findLeakingTraces(spans: readonly ReadableSpan[]): LeakingTrace[] {
  const found: LeakingTrace[] = [];
  for (const [traceId, trace] of byTrace(spans)) {
    // Only a request that failed can have skipped its release(): start from the errors, confirm with the events.
    if (!trace.some((span) => span.status.code === SpanStatusCode.ERROR)) continue;
    const returned = new Set(leaseIdsIn(trace, "connection_returned_safely"));
    const kept = leaseIdsIn(trace, "connection_acquired").filter((id) => !returned.has(id));
    if (kept.length > 0) found.push({ traceId, leaseIds: kept });
  }
  return found;
}

function byTrace(spans: readonly ReadableSpan[]): Map<string, ReadableSpan[]> {
  const traces = new Map<string, ReadableSpan[]>();
  for (const span of spans) {
    const traceId = span.spanContext().traceId;
    const list = traces.get(traceId);
    if (list) list.push(span);
    else traces.set(traceId, [span]);
  }
  return traces;
}

/** The `lease.id` attribute of every event named `eventName` in these spans, ascending. */
function leaseIdsIn(spans: readonly ReadableSpan[], eventName: string): number[] {
  return spans
    .flatMap((span) => span.events.filter((event) => event.name === eventName))
    .map((event) => Number(event.attributes?.["lease.id"]))
    .sort((a, b) => a - b);
}
