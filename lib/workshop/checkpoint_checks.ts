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
import pg from "pg";
import { sqlstate } from "../database.ts";
import type { RequestOutcome } from "../demo/request_series.ts";
import { PoolExhaustedError } from "../pool.ts";
import { backendsOf } from "./checkpoint_database.ts";

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

/** The events named `name` in these spans, with the span that carries each. */
export function eventsNamed(
  spans: readonly ReadableSpan[],
  name: string,
): { span: ReadableSpan; attributes: Record<string, unknown>; at: number }[] {
  return spans.flatMap((span) =>
    span.events.filter((event) => event.name === name).map((event) => ({
      span,
      attributes: { ...event.attributes },
      at: hrTimeToMilliseconds(event.time),
    }))
  );
}

/** When a trace began: its earliest span's start, in milliseconds on the spans' clock. */
export function traceStartedAt(spans: readonly ReadableSpan[], traceId: string): number {
  return Math.min(...traceOf(spans, traceId).map((span) => hrTimeToMilliseconds(span.startTime)));
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

/**
 * One lease of one pool seen across every trace: the trace that took it,
 * when, the queries of that trace after it, and every
 * `connection_returned_safely` for it — in whichever trace it came (a
 * connection given back by another request shows here).
 */
export interface LeaseRecord {
  /** The pool's name (`db.client.connection.pool.name`). */
  pool: string;
  leaseId: number;
  /** The trace that took it. */
  traceId: string;
  acquiredAt: number;
  /** The `database.query` spans of the taking trace that started after it was taken. */
  queries: { startedAt: number; endedAt: number }[];
  /** When the last of those queries ended (its acquisition when there were none). */
  busyUntil: number;
  /** Each `connection_returned_safely` for it, with the trace it came in. */
  returns: { traceId: string; at: number }[];
}

/**
 * Every lease in these spans, in the order taken. Queries are given to a
 * lease by trace, so give each pool family its own tracer when a request
 * takes a lease of each; leases are told apart by pool name and id.
 */
export function leaseLedger(spans: readonly ReadableSpan[]): LeaseRecord[] {
  const key = (attributes: Record<string, unknown>) =>
    `${attributes["db.client.connection.pool.name"]}#${attributes["lease.id"]}`;
  const returns = new Map<string, { traceId: string; at: number }[]>();
  for (const event of eventsNamed(spans, "connection_returned_safely")) {
    const list = returns.get(key(event.attributes)) ?? [];
    list.push({ traceId: event.span.spanContext().traceId, at: event.at });
    returns.set(key(event.attributes), list);
  }
  const queriesOf = new Map<string, { startedAt: number; endedAt: number }[]>();
  for (const span of spans) {
    if (span.name !== "database.query") continue;
    const traceId = span.spanContext().traceId;
    const list = queriesOf.get(traceId) ?? [];
    list.push({ startedAt: hrTimeToMilliseconds(span.startTime), endedAt: hrTimeToMilliseconds(span.endTime) });
    queriesOf.set(traceId, list);
  }
  return eventsNamed(spans, "connection_acquired").map((event) => {
    const traceId = event.span.spanContext().traceId;
    const queries = (queriesOf.get(traceId) ?? []).filter((query) => query.startedAt >= event.at - 0.5);
    return {
      pool: String(event.attributes["db.client.connection.pool.name"]),
      leaseId: Number(event.attributes["lease.id"]),
      traceId,
      acquiredAt: event.at,
      queries,
      busyUntil: Math.max(event.at, ...queries.map((query) => query.endedAt)),
      returns: returns.get(key(event.attributes)) ?? [],
    };
  }).sort((a, b) => a.acquiredAt - b.acquiredAt);
}

/** When the last span of this name in a trace ended (e.g. the request's scope), if there is one. */
export function spanEndedAt(spans: readonly ReadableSpan[], traceId: string, name: string): number | undefined {
  const ends = traceOf(spans, traceId).filter((span) => span.name === name).map((span) =>
    hrTimeToMilliseconds(span.endTime)
  );
  return ends.length ? Math.max(...ends) : undefined;
}

/** The `get_connection` spans of a trace that failed (the pool refused or could not open a connection). */
export function failedAcquires(spans: readonly ReadableSpan[], traceId: string): { pool: string; error: string }[] {
  return traceOf(spans, traceId)
    .filter((span) => span.name === "get_connection" && span.status.code === SpanStatusCode.ERROR)
    .map((span) => ({
      pool: String(span.attributes["db.client.connection.pool.name"] ?? ""),
      error: String(span.attributes["error.type"] ?? "Error"),
    }));
}

/**
 * Waits, up to `maxMs`, until none of `pools` has a connection out: a
 * release the code deferred (a timer, an un-awaited callback) lands, so a
 * checkpoint can say when it came rather than that it never did. Returns
 * how long it waited.
 */
export async function settle(pools: readonly { stats(): { active: number } }[], maxMs = 250): Promise<number> {
  const started = performance.now();
  while (pools.some((pool) => pool.stats().active > 0) && performance.now() - started < maxMs) {
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  return performance.now() - started;
}

/**
 * A pool's backends in `pg_stat_activity` once they agree with the pool:
 * as many as it holds open, all idle. A connection the code closed
 * (`release(error)`) can linger there a moment, so this asks again for up to
 * `maxMs` before returning what it last saw.
 */
export async function settledBackends(
  pool: { name: string; stats(): { total: number } },
  maxMs = 1_500,
): Promise<{ pid: number; state: string }[]> {
  const started = performance.now();
  for (;;) {
    const backends = await backendsOf(pool.name);
    const agree = backends.length === pool.stats().total && backends.every((b) => b.state === "idle");
    if (agree || performance.now() - started > maxMs) return backends;
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

/**
 * Where in the learner's file an error was thrown: `list_sensors.ts:21`, from
 * the first frame of its stack in that file, if any.
 */
export function thrownAt(error: unknown, file: string): string | undefined {
  const base = file.split("/").pop()!;
  const stack = error instanceof Error ? error.stack ?? "" : "";
  const match = stack.split("\n").map((line) => line.match(new RegExp(`/${base.replace(".", "\\.")}:(\\d+)`)))
    .find(Boolean);
  return match ? `${base}:${match[1]}` : undefined;
}

/**
 * Collects promise rejections nobody handled while it listens (in a server
 * each one would crash the process), instead of letting one end the test
 * run. `stop()` removes the listener and returns what it caught.
 */
export function unhandledRejections(): { stop(): unknown[] } {
  const reasons: unknown[] = [];
  const listener = (event: PromiseRejectionEvent) => {
    event.preventDefault();
    reasons.push(event.reason);
  };
  globalThis.addEventListener("unhandledrejection", listener);
  return {
    stop() {
      globalThis.removeEventListener("unhandledrejection", listener);
      return reasons;
    },
  };
}

/** The SQLSTATEs the queries of a trace failed with (`db.response.status_code` on failed `database.query` spans). */
export function queryErrorCodes(spans: readonly ReadableSpan[], traceId: string): string[] {
  return traceOf(spans, traceId)
    .filter((span) => span.name === "database.query" && span.status.code === SpanStatusCode.ERROR)
    .sort((a, b) => hrTimeToMilliseconds(a.startTime) - hrTimeToMilliseconds(b.startTime))
    .map((span) => String(span.attributes["db.response.status_code"] ?? ""))
    .filter(Boolean);
}

/**
 * Whether `error` is pg's own `DatabaseError` — what a failed query throws —
 * rather than a copy of it (a plain `Error` carrying its `code`, a wrapper).
 */
export function isDatabaseError(error: unknown): boolean {
  return error instanceof pg.DatabaseError;
}

/** The messages the failed queries of a trace recorded (`exception.message` on failed `database.query` spans). */
export function queryErrorMessages(spans: readonly ReadableSpan[], traceId: string): string[] {
  return traceOf(spans, traceId)
    .filter((span) => span.name === "database.query" && span.status.code === SpanStatusCode.ERROR)
    .sort((a, b) => hrTimeToMilliseconds(a.startTime) - hrTimeToMilliseconds(b.startTime))
    .flatMap((span) => span.events.map((event) => event.attributes?.["exception.message"]))
    .filter((message): message is string => typeof message === "string");
}
