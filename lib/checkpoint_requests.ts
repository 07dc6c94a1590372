/**
 * Requests and traces as a checkpoint sees them: each request runs under its
 * own root span (one trace per request, as in Jaeger), and its outcome —
 * value or error — is kept for the checkpoint to judge.
 *
 * @module
 */
import { context, SpanStatusCode, trace, type Tracer } from "@opentelemetry/api";
import type { ReadableSpan } from "@opentelemetry/sdk-trace-base";

/** What one request did. */
export interface RequestOutcome<T> {
  /** 1-based. */
  request: number;
  traceId: string;
  /** Set when the request resolved. */
  value?: T;
  /** Set when the request rejected. */
  error?: unknown;
  ok: boolean;
}

/**
 * Sends `count` requests one after another, each under a root span
 * `checkpoint.request` (attribute `leaklab.request`), and records outcomes.
 *
 * @example
 * ```ts ignore
 * const outcomes = await runRequests(tracer, 20, () => listSensors(pool, faults));
 * const failed = outcomes.filter((o) => !o.ok).map((o) => o.request);
 * ```
 */
export async function runRequests<T>(
  tracer: Tracer,
  count: number,
  send: (request: number) => Promise<T>,
): Promise<RequestOutcome<T>[]> {
  const outcomes: RequestOutcome<T>[] = [];
  for (let request = 1; request <= count; request++) {
    outcomes.push(await runRequest(tracer, request, send));
  }
  return outcomes;
}

/** Sends one request under its own root span. */
export async function runRequest<T>(
  tracer: Tracer,
  request: number,
  send: (request: number) => Promise<T>,
): Promise<RequestOutcome<T>> {
  const span = tracer.startSpan("checkpoint.request", { root: true, attributes: { "leaklab.request": request } });
  const traceId = span.spanContext().traceId;
  try {
    const value = await context.with(trace.setSpan(context.active(), span), () => send(request));
    return { request, traceId, value, ok: true };
  } catch (error) {
    span.setStatus({ code: SpanStatusCode.ERROR, message: error instanceof Error ? error.message : String(error) });
    return { request, traceId, error, ok: false };
  } finally {
    span.end();
  }
}

/** The SQLSTATE of a Postgres error (e.g. "57014"), or undefined for anything else. */
export function sqlstate(error: unknown): string | undefined {
  const code = (error as { code?: unknown } | undefined)?.code;
  return typeof code === "string" && /^[0-9A-Z]{5}$/.test(code) ? code : undefined;
}

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
