// Mistake: it looks only at the first get_connection of each trace, so a request that took two connections and kept the second is missed, and one that kept both reports only one lease id.
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
    const acquiredEvent = trace
      .find((span) => span.events.some((event) => event.name === "connection_acquired"))
      ?.events.find((event) => event.name === "connection_acquired");
    if (!acquiredEvent) continue;
    const leaseId = Number(acquiredEvent.attributes?.["lease.id"]);
    if (!leaseIdsIn(trace, "connection_returned_safely").includes(leaseId)) {
      found.push({ traceId, leaseIds: [leaseId] });
    }
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
