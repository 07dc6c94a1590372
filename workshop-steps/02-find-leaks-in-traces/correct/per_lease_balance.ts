// Correct: per trace it keeps a running balance per lease id (+1 acquired, -1 returned) and reports the ids still positive, sorted numerically, one entry per trace.
/**
 * Step 2: find the leaking requests in traces, as you would in Jaeger.
 *
 * Every request is one trace. The pool records, on its spans:
 * `get_connection` → event `connection_acquired` (attribute `lease.id`), and
 * `return_connection` → event `connection_returned_safely` (same `lease.id`).
 *
 * @module
 */
import type { ReadableSpan } from "@opentelemetry/sdk-trace-base";

/** A trace (one request) that took connections and never gave them back. */
export interface LeakingTrace {
  traceId: string;
  /** The `lease.id` of every connection it took and did not return, ascending. */
  leaseIds: number[];
}

/** The traces among `spans` that leaked at least one connection. */
export function findLeakingTraces(spans: readonly ReadableSpan[]): LeakingTrace[] {
  const balances = new Map<string, Map<number, number>>();
  for (const span of spans) {
    const traceId = span.spanContext().traceId;
    for (const event of span.events) {
      const delta = event.name === "connection_acquired" ? 1 : event.name === "connection_returned_safely" ? -1 : 0;
      if (delta === 0) continue;
      const leaseId = Number(event.attributes?.["lease.id"]);
      const balance = balances.get(traceId) ?? new Map<number, number>();
      balance.set(leaseId, (balance.get(leaseId) ?? 0) + delta);
      balances.set(traceId, balance);
    }
  }
  const found: LeakingTrace[] = [];
  balances.forEach((balance, traceId) => {
    const leaseIds = [...balance].filter(([, n]) => n > 0).map(([id]) => id).sort((a, b) => a - b);
    if (leaseIds.length) found.push({ traceId, leaseIds });
  });
  return found;
}
