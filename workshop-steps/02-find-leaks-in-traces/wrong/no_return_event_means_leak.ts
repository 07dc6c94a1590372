// Mistake: reports every trace that has no connection_returned_safely at all: traces that never took a connection are named too.
// Expect: "it took no connection at all"
/**
 * Step 2: find the leaking requests in traces — a known-wrong attempt, kept so CI proves the checkpoint rejects it.
 *
 * @module
 */
import type { ReadableSpan } from "@opentelemetry/sdk-trace-base";

/** A trace (one request) that took connections and never gave them back. */
export interface LeakingTrace {
  traceId: string;
  leaseIds: number[];
}

/** The `lease.id` attribute of every event named `eventName` in these spans, ascending. */
function leaseIdsIn(spans: readonly ReadableSpan[], eventName: string): number[] {
  return spans
    .flatMap((span) => span.events.filter((event) => event.name === eventName))
    .map((event) => Number(event.attributes?.["lease.id"]))
    .sort((a, b) => a - b);
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
    const returned = leaseIdsIn(trace, "connection_returned_safely");
    const acquired = leaseIdsIn(trace, "connection_acquired");
    if (returned.length === 0) found.push({ traceId, leaseIds: acquired });
    else {
      const leaked = acquired.filter((id) => !returned.includes(id));
      if (leaked.length > 0) found.push({ traceId, leaseIds: leaked });
    }
  }
  return found;
}
