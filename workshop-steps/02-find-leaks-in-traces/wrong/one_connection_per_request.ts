// Mistake: assumes a request takes one connection: only its first connection_acquired is listed, a second kept one goes unlisted.
// Expect: "it also kept"
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
    const first = leaseIdsIn(trace, "connection_acquired")[0];
    if (first === undefined) continue;
    const returned = leaseIdsIn(trace, "connection_returned_safely");
    // One request, one connection: if anything is missing, it is that one.
    if (returned.length < leaseIdsIn(trace, "connection_acquired").length) {
      found.push({ traceId, leaseIds: returned.includes(first) ? [first + 1] : [first] });
    }
  }
  return found;
}
