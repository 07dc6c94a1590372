// Mistake: it counts returns instead of matching lease ids and assumes the connections given back are the first ones taken, so when a two-connection request returns its second and keeps its first it names the wrong lease.
// Expect: "List only the connections that stayed out"
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
    // Connections come back in the order they were taken: whatever is left over at the end leaked.
    if (acquired.length > returned.length) found.push({ traceId, leaseIds: acquired.slice(returned.length) });
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
