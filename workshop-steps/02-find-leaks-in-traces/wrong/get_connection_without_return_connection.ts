// Mistake: pairs get_connection spans with returns: a get_connection that timed out on an exhausted pool handed out nothing, yet is reported.
// Expect: "the pool was exhausted"
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
    const gets = trace.filter((span) => span.name === "get_connection");
    const returned = new Set(leaseIdsIn(trace, "connection_returned_safely"));
    const unmatched = gets.filter((span) => {
      const id = span.events.find((event) => event.name === "connection_acquired")?.attributes?.["lease.id"];
      return id === undefined || !returned.has(Number(id));
    });
    if (unmatched.length === 0) continue;
    const leaseIds = unmatched
      .flatMap((span) => span.events.filter((event) => event.name === "connection_acquired"))
      .map((event) => Number(event.attributes?.["lease.id"]))
      .sort((a, b) => a - b);
    found.push({ traceId, leaseIds });
  }
  return found;
}
