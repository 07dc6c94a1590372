/**
 * The lease ledger and the checks built on it, for the fix steps'
 * checkpoints: every lease of a pool across every trace, who gave it back and
 * when, the errors a request's queries raised, and waits that let a late
 * release land before a verdict. Re-exported by `checkpoint_checks.ts`.
 *
 * @module
 */
import { SpanStatusCode } from "@opentelemetry/api";
import { hrTimeToMilliseconds } from "@opentelemetry/core";
import type { ReadableSpan } from "@opentelemetry/sdk-trace-base";
import pg from "pg";
import { backendsOf } from "./checkpoint_database.ts";

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

/** The spans of one trace. */
export function traceOf(spans: readonly ReadableSpan[], traceId: string): ReadableSpan[] {
  return spans.filter((span) => span.spanContext().traceId === traceId);
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
