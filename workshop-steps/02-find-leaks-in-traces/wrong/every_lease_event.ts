// Mistake: it treats every event carrying a lease.id other than connection_returned_safely as a connection taken, so a scoped leak (which also has a connection_leaked event for the same lease) lists its lease id twice.
// Expect: "list each connection once"
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
    const events = trace.flatMap((span) => span.events).filter((event) => event.attributes?.["lease.id"] !== undefined);
    const returned = events.filter((e) => e.name === "connection_returned_safely").map((e) =>
      Number(e.attributes?.["lease.id"])
    );
    const taken = events.filter((e) => e.name !== "connection_returned_safely").map((e) =>
      Number(e.attributes?.["lease.id"])
    );
    const kept = taken.filter((id) => !returned.includes(id)).sort((a, b) => a - b);
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
