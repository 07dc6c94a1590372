// Mistake: one entry per leaked connection instead of one per trace: a request that kept two is named twice.
// Expect: "more than once"
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
  const returned = new Set(leaseIdsIn(spans, "connection_returned_safely"));
  const found: LeakingTrace[] = [];
  for (const span of spans) {
    for (const event of span.events.filter((e) => e.name === "connection_acquired")) {
      const leaseId = Number(event.attributes?.["lease.id"]);
      if (!returned.has(leaseId)) found.push({ traceId: span.spanContext().traceId, leaseIds: [leaseId] });
    }
  }
  return found;
}
