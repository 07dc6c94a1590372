/**
 * A lease: one pooled connection checked out by `pool.acquire()`, until its
 * `release()` (or `await using`) gives it back. Queries on it are traced as
 * `database.query` spans.
 *
 * @module
 */
import { SpanKind as Kind, SpanStatusCode } from "@opentelemetry/api";
import type {
  Attributes,
  PgPoolClient,
  QueryConfig,
  QueryResult,
  QueryResultRow,
  Span,
  SpanContext,
  SpanKind,
  Submittable,
} from "../util/public_types.ts";
import { spanTime } from "../util/span_time.ts";
import { sqlstate } from "../postgres.ts";
import { acquireSite, acquireStack } from "./acquire_site.ts";
import { LeaseReleasedError } from "./errors.ts";
import { NOT_RECORDING } from "./pool_spans.ts";
import { LEAK_ATTRIBUTE, POOL_EVENTS, POOL_SPANS } from "./trace_names.ts";
import type { Holder, LeakReport } from "./types.ts";

/** Where a lease is in its life. Only "active" leases hold a connection. */
export type LeaseState = "active" | "released" | "reclaimed" | "lost";

/** What a lease needs from its pool: kept narrow so a lease cannot touch pool state. */
export interface LeaseHost {
  /** Starts a span at `now` (a `performance.now()` reading), the pool's way: see `TracedPool`. */
  startSpan(name: string, now: number, kind?: SpanKind): Span;
  /** The pool's name, for reports about this lease. */
  readonly poolName: string;
  /** `db.*` and `server.*` attributes shared by every query span. */
  readonly queryAttributes: Attributes;
  /** Why a lease without a captured site has none, for its reports. */
  readonly notCaptured: string;
  /** Takes the connection back; `destroy` (an error, or `true`) closes it instead of pooling it, as in pg-pool. */
  giveBack(lease: Lease, client: PgPoolClient, destroy?: Error | boolean): void;
}

/** The request-scoped leak check a lease was acquired under (see `pool.scope`). */
export interface LeakScope {
  /** The scope's name, as given to `pool.scope()`. */
  readonly name: string;
  /** The scope's span; undefined while no OpenTelemetry SDK is installed. */
  readonly span: Span | undefined;
  /**
   * Whether the scope's span records: the sampler's answer for the request.
   * Leases of an unrecorded scope start no spans of their own (they would all
   * be dropped); a leak among them is still exported, in the request's trace.
   */
  readonly traced: boolean;
  /** The request's span context, for reports: the scope's span, else its parent's; none without an SDK. */
  readonly trace: SpanContext | undefined;
  /** Leases acquired in this scope and still out. */
  open: number;
  /** Set when the scope's function has returned or thrown. */
  ended: boolean;
}

/**
 * One connection checked out by `pool.acquire()` (or handed out by
 * `pool.connect()` as its pg client), until `release()`, `await using` or
 * `using` gives it back.
 */
export class Lease implements AsyncDisposable, Disposable {
  /** Where the lease is in its life. */
  state: LeaseState = "active";
  /** Detected as leaked (scope ended, or held past the threshold) and not returned since. */
  leaked = false;
  /** Already reported as leaked (by its scope or by the threshold watch): never reported twice. */
  reported = false;
  /** Why the connection was lost, when `state` is "lost". */
  lossReason?: string;
  /** The open `pool.scope()` this lease was acquired in, if any. */
  scope: LeakScope | undefined;
  readonly #client: PgPoolClient;
  readonly #host: LeaseHost;
  readonly #captured: Error | undefined;
  /** pg's own `query` and pg-pool's `release` for this checkout, kept before `asPoolClient()` puts ours on the client. */
  readonly #pgQuery: PgPoolClient["query"];
  readonly #pgRelease: PgPoolClient["release"];

  /**
   * A lease the pool hands out; only the pool makes them.
   * @param id the pool's sequence number for this lease
   * @param client the pg connection it holds
   * @param acquiredAt `performance.now()` when it was handed out
   * @param span the `get_connection` span that handed it out, or the request's context when that span was not
   *   recorded; undefined when no trace knows of it (no OpenTelemetry SDK)
   * @param traced whether the lease records spans of its own (false in an unsampled scope)
   * @param captured an Error made in `acquire()` (its stack is read only when reported), if its site was captured
   * @param scopeName the `pool.scope()` it was acquired in, if any
   */
  constructor(
    readonly id: number,
    client: PgPoolClient,
    readonly acquiredAt: number,
    readonly span: SpanContext | undefined,
    readonly traced: boolean,
    captured: Error | undefined,
    readonly scopeName: string | undefined,
    host: LeaseHost,
  ) {
    this.#client = client;
    this.#captured = captured;
    this.#host = host;
    this.#pgQuery = client.query;
    this.#pgRelease = client.release;
  }

  /** The backend's process id, as in `pg_stat_activity.pid`. */
  get pid(): number {
    return (this.#client as unknown as { processID: number }).processID;
  }

  /** The trace that acquired it (see `span`); undefined when no OpenTelemetry SDK is installed. */
  get traceId(): string | undefined {
    return this.span?.traceId;
  }

  /** Milliseconds since acquire. */
  get ageMs(): number {
    return performance.now() - this.acquiredAt;
  }

  /** Whether `acquire()` captured where it was called. */
  get siteCaptured(): boolean {
    return this.#captured !== undefined;
  }

  /** `file:line:column` of the `acquire()` call, or why it was not captured. */
  get site(): string {
    return this.#captured ? acquireSite(this.#captured) : `(acquire site not captured: ${this.#host.notCaptured})`;
  }

  /** The acquiring code's stack, or where else to look when the site was not captured. */
  get stack(): string {
    if (this.#captured) return acquireStack(this.#captured);
    const where = [
      ...(this.scopeName ? [`in scope "${this.scopeName}"`] : []),
      ...(this.span ? [`trace ${this.span.traceId}`] : []),
    ].join(", ") || "outside any scope or trace";
    return `    ${where} (its acquire site was not captured: ${this.#host.notCaptured})`;
  }

  /** This lease as named in an exhaustion error. */
  holder(): Holder {
    return {
      leaseId: this.id,
      pid: this.pid,
      ageMs: this.ageMs,
      site: this.site,
      siteCaptured: this.siteCaptured,
      ...(this.scopeName ? { scope: this.scopeName } : {}),
      ...(this.span ? { traceId: this.span.traceId } : {}),
      leaked: this.leaked,
    };
  }

  /** This lease as listed by `pool.leaks()`. */
  report(): LeakReport {
    return {
      leaseId: this.id,
      pid: this.pid,
      ageMs: Math.round(this.ageMs),
      acquiredAt: new Date(performance.timeOrigin + this.acquiredAt).toISOString(),
      ...(this.span ? { traceId: this.span.traceId, spanId: this.span.spanId } : {}),
      ...(this.scopeName ? { scope: this.scopeName } : {}),
      site: this.site,
      stack: this.stack,
    };
  }

  /**
   * Attributes of a `connection_leaked` event about this lease. The event's
   * own name is repeated as its `event` attribute: Jaeger's tag search looks
   * at event attributes, never at event names.
   */
  leakAttributes(): Attributes {
    return {
      event: POOL_EVENTS.leaked,
      [LEAK_ATTRIBUTE]: true,
      "db.client.connection.pool.name": this.#host.poolName,
      "lease.id": this.id,
      "lease.pid": this.pid,
      "lease.age_ms": Math.round(this.ageMs),
      "lease.acquire_site": this.site,
      ...(this.scopeName ? { "leaklab.scope": this.scopeName } : {}),
      "code.stacktrace": this.stack,
    };
  }

  /**
   * Runs one query on this connection inside a `database.query` span.
   * Use `$1`-style parameters: the text is recorded on the span as is.
   */
  query<R extends QueryResultRow = QueryResultRow>(
    query: string | QueryConfig,
    params?: unknown[],
  ): Promise<QueryResult<R>> {
    if (this.state !== "active") return Promise.reject(this.#unusable("query()"));
    // Untraced (an unsampled scope) or not recorded: pg's own promise, not one more around it.
    if (!this.traced) return this.#run<R>(query, params);
    const span = this.#host.startSpan(POOL_SPANS.query, performance.now(), Kind.CLIENT);
    if (!span.isRecording()) return this.#run<R>(query, params);
    return this.#tracedQuery(span, query, params);
  }

  /**
   * The connection as node-postgres' `pool.connect()` hands it out: the pg
   * client itself, whose `query()` (every form pg takes) is traced like
   * `lease.query()` and whose `release(err?)` is this lease's. Code written
   * for pg (Kysely, Drizzle, a `pool.connect()` of your own) uses it as is.
   */
  asPoolClient(): PgPoolClient {
    const client = this.#client;
    client.release = (destroy?: Error | boolean) => this.release(destroy);
    client.query = ((...args: unknown[]) => this.#clientQuery(args)) as PgPoolClient["query"];
    return client;
  }

  /** Gives the connection back to pg-pool (destroyed if `destroy`), and takes `asPoolClient()`'s query off it. */
  releaseToPg(destroy?: Error | boolean): void {
    if (Object.hasOwn(this.#client, "query")) delete (this.#client as { query?: unknown }).query;
    this.#pgRelease.call(this.#client, destroy);
  }

  /** `client.query(...)` in any of pg's forms: a stream (a Submittable) runs untraced; a callback gets the outcome. */
  #clientQuery(args: unknown[]): unknown {
    const [first] = args;
    if (typeof (first as Submittable | undefined)?.submit === "function") {
      return (this.#pgQuery as (...a: unknown[]) => unknown).apply(this.#client, args);
    }
    const callback = typeof args.at(-1) === "function" ? args.pop() as (e: unknown, r?: unknown) => void : undefined;
    const result = this.query(first as string | QueryConfig, args[1] as unknown[] | undefined);
    if (!callback) return result;
    result.then((rows) => callback(null, rows), (error) => callback(error));
    return undefined;
  }

  #run<R extends QueryResultRow>(query: string | QueryConfig, params?: unknown[]): Promise<QueryResult<R>> {
    return (this.#pgQuery as (q: unknown, p?: unknown[]) => Promise<QueryResult<R>>).call(
      this.#client,
      query,
      params,
    );
  }

  async #tracedQuery<R extends QueryResultRow>(
    span: Span,
    query: string | QueryConfig,
    params: unknown[] | undefined,
  ): Promise<QueryResult<R>> {
    span.setAttributes(this.#host.queryAttributes);
    span.setAttribute("db.query.text", typeof query === "string" ? query : query.text);
    try {
      return await this.#run<R>(query, params);
    } catch (error) {
      recordQueryError(span, error);
      throw error;
    } finally {
      span.end(spanTime(performance.now()));
    }
  }

  /**
   * Returns the connection to the pool; with an error (or `true`) the pool
   * closes it instead, as pg-pool's `client.release(err)` does.
   * @throws {LeaseReleasedError} when it was already released by this code
   */
  release(destroy?: Error | boolean): void {
    if (this.state === "active") return this.#host.giveBack(this, this.#client, destroy);
    if (this.state !== "released") return; // the pool already took it back (reset, end, lost)
    const now = performance.now();
    const span = this.traced ? this.#host.startSpan(POOL_SPANS.release, now) : NOT_RECORDING;
    const error = new LeaseReleasedError(
      `Connection #${this.id} was already returned to the pool: release() was called twice. ` +
        `Release each connection exactly once, in one finally block or with \`await using\`.`,
    );
    span.addEvent(POOL_EVENTS.doubleRelease, { "lease.id": this.id }, spanTime(now));
    span.setStatus({ code: SpanStatusCode.ERROR, message: error.message });
    span.end(spanTime(now));
    throw error;
  }

  /** `await using lease = await pool.acquire()` releases at scope exit; idempotent. */
  [Symbol.asyncDispose](): Promise<void> {
    this[Symbol.dispose]();
    return Promise.resolve();
  }

  /** `using lease = await pool.acquire()` releases at scope exit; idempotent. */
  [Symbol.dispose](): void {
    if (this.state === "active") this.release();
  }

  #unusable(call: string): LeaseReleasedError {
    const why = {
      active: "",
      released: "it was already returned to the pool",
      reclaimed: "the pool reclaimed it as leaked (pool.reset() or pool.end())",
      lost: `the server closed it (${this.lossReason})`,
    }[this.state];
    return new LeaseReleasedError(
      `Cannot call ${call} on connection #${this.id}: ${why}. Acquire a new connection with pool.acquire().`,
    );
  }
}

/** Who holds the connections, as an exhaustion error names them: every leaked lease first, then the oldest others. */
export function holders(active: Iterable<Lease>, limit: number): Holder[] {
  const leases = [...active];
  const ordered = [...leases.filter((lease) => lease.leaked), ...leases.filter((lease) => !lease.leaked)];
  return ordered.slice(0, limit).map((lease) => lease.holder());
}

function recordQueryError(span: Span, error: unknown): void {
  const code = sqlstate(error);
  const type = code ?? (error instanceof Error ? error.name : "Error");
  const message = error instanceof Error ? error.message : String(error);
  if (code) span.setAttribute("db.response.status_code", code);
  span.setAttribute("error.type", type);
  span.addEvent(POOL_EVENTS.queryError, { "exception.type": type, "exception.message": message });
  span.setStatus({ code: SpanStatusCode.ERROR, message });
}
