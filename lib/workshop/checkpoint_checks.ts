/**
 * What checkpoints judge with: errors and lists worded for a learner, and
 * the leases a trace took and kept, read from its spans as one would in
 * Jaeger. Requests themselves are sent with `runRequests()` from
 * `lib/demo/request_series.ts` (one trace per request).
 *
 * @module
 */
import type { ReadableSpan } from "@opentelemetry/sdk-trace-base";
import { sqlstate } from "../database.ts";

/** One line naming an error for a learner: `PoolExhaustedError: Connection pool…` or `57014 canceling…`. */
export function describeError(error: unknown): string {
  if (error === undefined) return "no error";
  const code = sqlstate(error);
  const message = error instanceof Error ? error.message.split("\n")[0] : String(error);
  if (code) return `SQLSTATE ${code} (${message})`;
  return `${error instanceof Error ? error.name : typeof error}: ${message}`;
}

/** The events named `name` in these spans, with the span that carries each. */
export function eventsNamed(
  spans: readonly ReadableSpan[],
  name: string,
): { span: ReadableSpan; attributes: Record<string, unknown> }[] {
  return spans.flatMap((span) =>
    span.events.filter((event) => event.name === name).map((event) => ({ span, attributes: { ...event.attributes } }))
  );
}

/** The spans of one trace. */
export function traceOf(spans: readonly ReadableSpan[], traceId: string): ReadableSpan[] {
  return spans.filter((span) => span.spanContext().traceId === traceId);
}

/**
 * The leases a trace took (`connection_acquired`) and those it kept (no
 * `connection_returned_safely` with the same `lease.id`). Lease ids are per
 * pool: give each pool its own tracer when a request uses two.
 */
export function leaseBalance(spans: readonly ReadableSpan[], traceId: string): { acquired: number[]; kept: number[] } {
  const ids = (event: string) =>
    eventsNamed(traceOf(spans, traceId), event).map((e) => Number(e.attributes["lease.id"]));
  const returned = new Set(ids("connection_returned_safely"));
  const acquired = ids("connection_acquired");
  return { acquired, kept: acquired.filter((id) => !returned.has(id)) };
}

/** A compact list for messages: "2, 4, 6" or "2, 4, 6, … (9 in all)". */
export function listOf(items: readonly (string | number)[], shown = 8): string {
  if (items.length === 0) return "none";
  if (items.length <= shown) return items.join(", ");
  return `${items.slice(0, shown).join(", ")}, … (${items.length} in all)`;
}
