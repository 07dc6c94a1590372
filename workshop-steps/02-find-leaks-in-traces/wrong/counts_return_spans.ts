// Mistake: takes every return_connection span for a returned connection: a double release of one connection hides the other's leak.
// Expect: "connection_double_release"
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
    const acquired = leaseIdsIn(trace, "connection_acquired");
    const returns = trace.filter((span) => span.name === "return_connection").length;
    // Every connection taken needs one return_connection span.
    if (returns >= acquired.length) continue;
    const returned = new Set(leaseIdsIn(trace, "connection_returned_safely"));
    found.push({ traceId, leaseIds: acquired.filter((id) => !returned.has(id)) });
  }
  return found;
}
