// Mistake: a trace with at least one connection_returned_safely is taken as healthy, so a request that took two connections and returned only one is never reported.
// Expect: "match each return to its connection_acquired by lease.id"
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
    const acquired = leaseIdsIn(trace, "connection_acquired");
    const returned = leaseIdsIn(trace, "connection_returned_safely");
    // A healthy request has return_connection → connection_returned_safely; a leaking one does not.
    if (acquired.length > 0 && returned.length === 0) found.push({ traceId, leaseIds: acquired });
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
