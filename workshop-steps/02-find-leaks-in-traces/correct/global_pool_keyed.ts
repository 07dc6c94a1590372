// Correct: returns are matched globally by (pool name, lease id) rather than per trace, which names the same traces and leases for the README's single real pool (each lease is returned in the trace that took it) and would stay right if a lease came back elsewhere.
import type { ReadableSpan } from "@opentelemetry/sdk-trace-base";
import type { Attributes } from "@opentelemetry/api";

/** A trace (one request) that took connections and never gave them back. */
export interface LeakingTrace {
  traceId: string;
  /** The `lease.id` of every connection it took and did not return, ascending. */
  leaseIds: number[];
}

const key = (attributes: Attributes | undefined): string =>
  `${attributes?.["db.client.connection.pool.name"] ?? ""}#${attributes?.["lease.id"]}`;

/** The traces among `spans` that leaked at least one connection. */
export function findLeakingTraces(spans: readonly ReadableSpan[]): LeakingTrace[] {
  const events = spans.flatMap((span) => span.events.map((event) => ({ traceId: span.spanContext().traceId, event })));
  const returned = new Set(
    events.filter(({ event }) => event.name === "connection_returned_safely").map(({ event }) => key(event.attributes)),
  );
  const kept = new Map<string, number[]>();
  for (const { traceId, event } of events) {
    if (event.name !== "connection_acquired" || returned.has(key(event.attributes))) continue;
    kept.set(traceId, [...(kept.get(traceId) ?? []), Number(event.attributes?.["lease.id"])]);
  }
  return [...kept].map(([traceId, ids]) => ({ traceId, leaseIds: [...new Set(ids)].sort((a, b) => a - b) }));
}
