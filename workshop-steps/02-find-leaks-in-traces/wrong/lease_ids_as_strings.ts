// Mistake: keeps the lease ids as object keys and returns them so: strings, not the numbers the lease.id attribute holds.
// Expect: "array of numbers"
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

/** The traces among `spans` that leaked at least one connection. */
export function findLeakingTraces(spans: readonly ReadableSpan[]): LeakingTrace[] {
  const state: Record<string, Record<string, "out" | "back">> = {};
  for (const span of spans) {
    const traceId = span.spanContext().traceId;
    const leases = (state[traceId] ??= {});
    for (const event of span.events) {
      const id = String(event.attributes?.["lease.id"]);
      if (event.name === "connection_acquired") leases[id] ??= "out";
      if (event.name === "connection_returned_safely") leases[id] = "back";
    }
  }
  const found: LeakingTrace[] = [];
  for (const [traceId, leases] of Object.entries(state)) {
    const out = Object.keys(leases).filter((id) => leases[id] === "out");
    if (out.length > 0) found.push({ traceId, leaseIds: out as unknown as number[] });
  }
  return found;
}
