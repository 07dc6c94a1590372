// Mistake: counts acquires against returns and takes the last-acquired ones as the leaked: when the first of two connections leaks, the wrong one is named.
// Expect: "List only the connections that stayed out"
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
    const returnedCount = leaseIdsIn(trace, "connection_returned_safely").length;
    const missing = acquired.length - returnedCount;
    // The last connections taken are the ones still out.
    if (missing > 0) found.push({ traceId, leaseIds: acquired.slice(acquired.length - missing) });
  }
  return found;
}
