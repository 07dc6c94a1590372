/**
 * What checkpoints judge with: errors and lists worded for a learner, the
 * leases a trace took and kept, and when each lease was taken, queried and
 * given back — read from its spans as one would in Jaeger. Requests are sent
 * one after another with `runRequests()` from `lib/demo/request_series.ts`,
 * or all at once with {@linkcode runConcurrentRequests} (one trace each).
 *
 * @module
 */
import { context, SpanStatusCode, trace, type Tracer } from "@opentelemetry/api";
import { hrTimeToMilliseconds } from "@opentelemetry/core";
import type { ReadableSpan } from "@opentelemetry/sdk-trace-base";
import { sqlstate } from "../database.ts";
import type { RequestOutcome } from "../demo/request_series.ts";
import { PoolExhaustedError } from "../pool.ts";

/**
 * One line naming an error for a learner: `PoolExhaustedError: Connection pool…`
 * or `SQLSTATE 57014 (canceling…)`, without a closing full stop, so it can sit
 * inside a sentence.
 */
export function describeError(error: unknown): string {
  if (error === undefined) return "no error";
  if (error instanceof PoolExhaustedError) {
    const { active, max, leaked } = error.stats;
    return `PoolExhaustedError: pool "${error.poolName}" had no connection free for ${Math.round(error.waitedMs)} ` +
      `ms (${active} of ${max} out, ${leaked} leaked)`;
  }
  const code = sqlstate(error);
  const message = firstSentence(error);
  if (code) return `SQLSTATE ${code} (${message})`;
  // "Cannot read properties of undefined": the value in backticks, so it never reads as a value left unfilled.
  const quoted = message.replace(/(?<!`)\b(undefined|NaN)\b(?!`)/g, "`$1`");
  return `${error instanceof Error ? error.name : typeof error}: ${quoted}`;
}

/** The first sentence of an error's message, without its full stop: for quoting it inside a sentence. */
export function firstSentence(error: unknown): string {
  const message = (error instanceof Error ? error.message : String(error)).split("\n")[0];
  return message.split(/(?<=\.)\s/)[0].replace(/[.\s]+$/, "");
}

/** A value as a learner would write it: JSON, shortened; `undefined` in backticks. */
export function shown(value: unknown, max = 60): string {
  if (value === undefined) return "`undefined`";
  const text = JSON.stringify(value) ?? String(value);
  return text.length > max ? `${text.slice(0, max - 1)}…` : text;
}

/** When a trace began: its earliest span's start, in milliseconds on the spans' clock. */
export function traceStartedAt(spans: readonly ReadableSpan[], traceId: string): number {
  return Math.min(...traceOf(spans, traceId).map((span) => hrTimeToMilliseconds(span.startTime)));
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

/** Whether a query failed in this trace (a `query_error` event), whatever the request made of it. */
export function queryFailedIn(spans: readonly ReadableSpan[], traceId: string): boolean {
  return eventsNamed(traceOf(spans, traceId), "query_error").length > 0;
}

/** When one lease was taken, queried and given back, in milliseconds on the spans' clock. */
export interface LeaseTimeline {
  traceId: string;
  leaseId: number;
  /** Its `connection_acquired` event. */
  acquiredAt: number;
  /** The trace's `database.query` spans. */
  queries: { startedAt: number; endedAt: number }[];
  /** Its `connection_returned_safely` event, if it came back. */
  returnedAt?: number;
  /** When the last of its queries ended (its acquisition when it ran none). */
  busyUntil: number;
}

/**
 * The timeline of each lease a trace took. The trace's `database.query`
 * spans are given to its lease, so use it where a request takes one lease
 * per tracer (give a second pool its own tracer).
 */
export function leaseTimelines(spans: readonly ReadableSpan[], traceId: string): LeaseTimeline[] {
  const spansOfTrace = traceOf(spans, traceId);
  const queries = spansOfTrace.filter((span) => span.name === "database.query").map((span) => ({
    startedAt: hrTimeToMilliseconds(span.startTime),
    endedAt: hrTimeToMilliseconds(span.endTime),
  }));
  const returned = new Map(
    eventsNamed(spansOfTrace, "connection_returned_safely").map((e) => [Number(e.attributes["lease.id"]), e.at]),
  );
  return eventsNamed(spansOfTrace, "connection_acquired").map((event) => {
    const leaseId = Number(event.attributes["lease.id"]);
    return {
      traceId,
      leaseId,
      acquiredAt: event.at,
      queries,
      returnedAt: returned.get(leaseId),
      busyUntil: Math.max(event.at, ...queries.map((query) => query.endedAt)),
    };
  });
}

/** The first lease given back to the pool before its last query ended, if any. */
export function returnedWhileBusy(timelines: readonly LeaseTimeline[]): LeaseTimeline | undefined {
  return timelines.find((t) => t.returnedAt !== undefined && t.returnedAt < t.busyUntil);
}

/**
 * In a pool of ONE connection, the first lease handed out while the lease
 * before it still had a query running on that connection.
 */
export function handedOutWhileBusy(
  timelines: readonly LeaseTimeline[],
): { earlier: LeaseTimeline; later: LeaseTimeline } | undefined {
  const sorted = [...timelines].sort((a, b) => a.acquiredAt - b.acquiredAt);
  for (let i = 1; i < sorted.length; i++) {
    if (sorted[i].acquiredAt < sorted[i - 1].busyUntil) return { earlier: sorted[i - 1], later: sorted[i] };
  }
  return undefined;
}

/** Milliseconds for a message: "5.9 ms". */
export function ms(value: number): string {
  return `${value.toFixed(1)} ms`;
}

/** Options for {@linkcode runConcurrentRequests}. */
export interface ConcurrentRequestsOptions<T> {
  /** How many requests, all started at once. */
  count: number;
  /** Sends request number `request` (1-based). */
  send: (request: number) => Promise<T>;
  /** Makes each request's root span (named "request"). */
  tracer: Tracer;
  /**
   * How long after the first request each one starts, in ms (a seeded
   * stagger varies the interleaving). @default every request at once
   */
  delayMs?: (request: number) => number;
}

/**
 * Starts every request at once (or each after its `delayMs`), each as its own
 * trace (as separate HTTP requests would be), and waits for them all;
 * outcomes in request order.
 */
export async function runConcurrentRequests<T>(options: ConcurrentRequestsOptions<T>): Promise<RequestOutcome<T>[]> {
  return await Promise.all(Array.from({ length: options.count }, async (_, i) => {
    const request = i + 1;
    const delay = options.delayMs?.(request) ?? 0;
    if (delay > 0) await new Promise((resolve) => setTimeout(resolve, delay));
    const span = options.tracer.startSpan("request", { root: true, attributes: { "leaklab.request": request } });
    const traceId = span.spanContext().traceId;
    try {
      const value = await context.with(trace.setSpan(context.active(), span), () => options.send(request));
      return { request, traceId, value, ok: true };
    } catch (error) {
      span.setStatus({ code: SpanStatusCode.ERROR, message: error instanceof Error ? error.message : String(error) });
      return { request, traceId, error, ok: false };
    } finally {
      span.end();
    }
  }));
}

/** A compact list for messages: "2, 4, 6" or "2, 4, 6, … (9 in all)". */
export function listOf(items: readonly (string | number)[], shown = 8): string {
  if (items.length === 0) return "none";
  if (items.length <= shown) return items.join(", ");
  return `${items.slice(0, shown).join(", ")}, … (${items.length} in all)`;
}

import { eventsNamed, traceOf } from "./checkpoint_ledger.ts";
export * from "./checkpoint_ledger.ts";
