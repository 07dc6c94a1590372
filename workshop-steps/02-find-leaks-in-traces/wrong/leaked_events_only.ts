// Mistake: it trusts the pool's connection_leaked events, which only a pool.scope() (or the leak threshold) records, so a background job that took a connection outside any scope and kept it is never reported.
// Expect: "no connection_leaked event marks it"
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
    // The pool itself says which leases a request kept: a connection_leaked event per lease.
    const leaked = [...new Set(leaseIdsIn(trace, "connection_leaked"))];
    if (leaked.length > 0) found.push({ traceId, leaseIds: leaked });
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
