// Mistake: the lease ids are sorted with the default Array sort, which compares them as strings, so a trace that leaked #9 and #10 reports [10, 9] instead of ascending order.
// Expect: "leaseIds is ascending"
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
    const open = new Set<number>();
    for (const span of trace) {
      for (const event of span.events) {
        const id = Number(event.attributes?.["lease.id"]);
        if (event.name === "connection_acquired") open.add(id);
      }
    }
    for (const span of trace) {
      for (const event of span.events) {
        if (event.name === "connection_returned_safely") open.delete(Number(event.attributes?.["lease.id"]));
      }
    }
    if (open.size > 0) found.push({ traceId, leaseIds: [...open].sort() });
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
