// Mistake: it decides a trace leaks when it has more get_connection spans than return_connection spans, so a request whose acquire() failed (the pool was exhausted: a get_connection with no connection) is reported as leaking with no lease, and a double release hides a real leak.
// Expect: "it took no connection at all"
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
    const gets = trace.filter((span) => span.name === "get_connection").length;
    const returns = trace.filter((span) => span.name === "return_connection").length;
    if (gets <= returns) continue;
    const returned = new Set(leaseIdsIn(trace, "connection_returned_safely"));
    found.push({ traceId, leaseIds: leaseIdsIn(trace, "connection_acquired").filter((id) => !returned.has(id)) });
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
