// Correct: per trace it replays the pool events in time order, opening a lease on connection_acquired and closing it on connection_returned_safely, and reports what is still open at the end in ascending order.
import type { ReadableSpan } from "@opentelemetry/sdk-trace-base";
import type { HrTime } from "@opentelemetry/api";

/** A trace (one request) that took connections and never gave them back. */
export interface LeakingTrace {
  traceId: string;
  /** The `lease.id` of every connection it took and did not return, ascending. */
  leaseIds: number[];
}

const nanos = ([s, ns]: HrTime): bigint => BigInt(s) * 1_000_000_000n + BigInt(ns);

/** The traces among `spans` that leaked at least one connection. */
export function findLeakingTraces(spans: readonly ReadableSpan[]): LeakingTrace[] {
  const timelines: Record<string, { at: bigint; name: string; id: number }[]> = {};
  for (const span of spans) {
    const traceId = span.spanContext().traceId;
    for (const event of span.events) {
      if (event.name !== "connection_acquired" && event.name !== "connection_returned_safely") continue;
      (timelines[traceId] ??= []).push({
        at: nanos(event.time),
        name: event.name,
        id: Number(event.attributes?.["lease.id"]),
      });
    }
  }
  const found: LeakingTrace[] = [];
  for (const [traceId, timeline] of Object.entries(timelines)) {
    timeline.sort((a, b) => (a.at < b.at ? -1 : a.at > b.at ? 1 : a.name === "connection_acquired" ? -1 : 1));
    const open = new Set<number>();
    for (const { name, id } of timeline) name === "connection_acquired" ? open.add(id) : open.delete(id);
    if (open.size > 0) found.push({ traceId, leaseIds: Array.from(open).sort((a, b) => a - b) });
  }
  return found;
}
