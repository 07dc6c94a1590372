// Mistake: keeps the lease ids as strings and sorts them with the default (lexicographic) sort before converting, so [9, 12] comes out as [12, 9], not ascending as the interface requires.
// Expect: "compared as text"
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
  const byTrace = new Map<string, ReadableSpan[]>();
  for (const span of spans) {
    const traceId = span.spanContext().traceId;
    byTrace.set(traceId, [...(byTrace.get(traceId) ?? []), span]);
  }
  const found: LeakingTrace[] = [];
  for (const [traceId, trace] of byTrace) {
    const ids = (name: string) =>
      trace.flatMap((span) => span.events.filter((e) => e.name === name)).map((e) =>
        String(e.attributes?.["lease.id"])
      );
    const returned = new Set(ids("connection_returned_safely"));
    const missing = ids("connection_acquired").filter((id) => !returned.has(id)).sort();
    if (missing.length > 0) found.push({ traceId, leaseIds: missing.map(Number) });
  }
  return found;
}
