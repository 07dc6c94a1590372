/**
 * TracedPool: a node-postgres `Pool` that shows every lease in traces, counts
 * what is out, notices leaks and, when it runs dry, says who holds the
 * connections.
 *
 * Every state change is visible, as in pg-pool's events (names in
 * `pool/trace_names.ts`):
 *
 * | call                      | span                       | event                         |
 * |---------------------------|----------------------------|-------------------------------|
 * | `acquire()`               | `get_connection`           | `connection_acquired`         |
 * | `lease.query()`           | `database.query`           | `query_error` on failure      |
 * | `lease.release()`         | `return_connection`        | `connection_returned_safely`  |
 * | `scope()` ends, lease out | the scope's own span       | `connection_leaked`           |
 * | held past the threshold   | `connection_leak_detected` | `connection_leaked`           |
 * | server kills a lease      | `connection_lost`          |                               |
 *
 * Every leaking span also carries `leaklab.leak=true`, which is what a Jaeger
 * search finds (`LEAK_SEARCH_TAGS`).
 *
 * The tracing must stay cheap enough to leave on in production: spans get
 * explicit times and parents, pool attributes are built once, samples go
 * into typed arrays, the scope rides in the OpenTelemetry context, and by
 * default acquire sites are captured only while the pool shows trouble.
 *
 * @example
 * ```ts ignore
 * import { TracedPool } from "./pool.ts";
 * const pool = new TracedPool({ connectionString: Deno.env.get("DATABASE_URL")! });
 * await pool.scope("list_sensors", async () => {
 *   await using conn = await pool.acquire();
 *   return (await conn.query("SELECT * FROM sensors LIMIT $1", [10])).rows;
 * });
 * console.log(pool.stats()); // { max: 5, total: 1, idle: 1, active: 0, ... }
 * await pool.end();
 * ```
 *
 * @module
 */
import {
  type Attributes,
  context,
  createContextKey,
  INVALID_SPAN_CONTEXT,
  type Span,
  type SpanKind,
  SpanStatusCode,
  trace,
  type Tracer,
} from "@opentelemetry/api";
import { spanTime } from "./pool/span_time.ts";
import pg from "pg";
import { describeConnectionError } from "./database.ts";
import { PoolEndedError, PoolExhaustedError } from "./pool/errors.ts";
import { PoolHistory } from "./pool/history.ts";
import { type LeakScope, Lease, type LeaseHost } from "./pool/lease.ts";
import { LeakWatch } from "./pool/leak_watch.ts";
import { PoolMetrics } from "./pool/metrics.ts";
import { type AcquireSitePolicy, resolvePoolOptions, type TracedPoolOptions } from "./pool/options.ts";
import { poolEventAttributes, PoolReporter } from "./pool/reporter.ts";
import { cancelStatements } from "./pool/statement_cancel.ts";
import { POOL_EVENTS, POOL_SPANS } from "./pool/trace_names.ts";
import type { Holder, LeakReport, PoolChange, PoolSample, PoolStats, ScopeOptions } from "./pool/types.ts";
import { ensureContextManager } from "./util/context_manager.ts";

export { ALERT_THRESHOLDS, type AlertThresholds } from "./pool/alert_thresholds.ts";
export { Lease, type LeaseState } from "./pool/lease.ts";
export { LeaseReleasedError, PoolEndedError, PoolExhaustedError } from "./pool/errors.ts";
export type { AcquireSitePolicy, TracedPoolOptions } from "./pool/options.ts";
export {
  LEAK_ATTRIBUTE,
  LEAK_SEARCH_TAGS,
  POOL_EVENT_KINDS,
  POOL_EVENTS,
  POOL_SPANS,
  POOL_TRACE_HINTS,
} from "./pool/trace_names.ts";
export type * from "./pool/types.ts";

/** What `#startSpan` hands out while nothing is recorded: one object, never ended, never exported. */
const NOT_RECORDING: Span = trace.wrapSpanContext(INVALID_SPAN_CONTEXT);

/** Where `pool.scope()` keeps its leak check: in the OpenTelemetry context, beside the scope's span. */
const SCOPE = createContextKey("leak-lab.pool.scope");
/** How long, after a leak or an exhaustion, the "adaptive" policy keeps capturing acquire sites. */
const CAPTURE_AFTER_TROUBLE_MS = 10 * 60_000;

/** A node-postgres pool with spans, stats, leak detection and exhaustion errors that name the holders. */
export class TracedPool {
  readonly name: string;
  readonly max: number;
  readonly acquireTimeoutMs: number;
  readonly leakThresholdMs: number;
  /** When `acquire()` records where it was called: see {@linkcode TracedPoolOptions.captureAcquireSites}. */
  readonly captureAcquireSites: AcquireSitePolicy;
  readonly #pg: pg.Pool;
  readonly #tracer: Tracer;
  readonly #report: PoolReporter;
  readonly #active = new Map<pg.PoolClient, Lease>(); // insertion order = oldest first
  readonly #history: PoolHistory;
  readonly #watch: LeakWatch;
  readonly #metrics: PoolMetrics;
  readonly #host: LeaseHost;
  readonly #poolAttributes: Attributes;
  readonly #maxReportedHolders: number;
  readonly #log: (message: string) => void;
  /** Reclaimed connections being closed (statement cancel, then socket), awaited by end(). */
  readonly #closing = new Set<Promise<void>>();
  /** How many reclaimed connections are still open until their statement is cancelled. */
  #closingCount = 0;
  #leaked = 0;
  #nextId = 0;
  #capturingUntil = 0;
  /** Whether the last span was recorded; while not, the shared non-recording span stands in (see #startSpan). */
  #recording = true;
  #sinceProbe = 0;
  #ended: Promise<void> | undefined;

  /** @throws {RangeError} naming the first bad option and its value */
  constructor(options: TracedPoolOptions) {
    const resolved = resolvePoolOptions(options);
    this.name = resolved.name;
    this.max = resolved.max;
    this.acquireTimeoutMs = resolved.acquireTimeoutMs;
    this.leakThresholdMs = resolved.leakThresholdMs;
    this.captureAcquireSites = resolved.captureAcquireSites;
    this.#history = new PoolHistory(resolved.historySize, this.max);
    this.#tracer = resolved.tracer;
    this.#maxReportedHolders = resolved.maxReportedHolders;
    this.#log = resolved.log;
    ensureContextManager(); // scopes ride in the OpenTelemetry context, traced or not

    this.#pg = new pg.Pool({
      connectionString: options.connectionString,
      max: this.max,
      connectionTimeoutMillis: this.acquireTimeoutMs,
      idleTimeoutMillis: resolved.idleTimeoutMs,
      application_name: `leak-lab:${this.name}`,
    });
    // A connection that dies while leased must not crash the process: pg-pool
    // listens only while it is idle.
    this.#pg.on("connect", (client) => client.on("error", (error) => this.#lost(client, error)));
    this.#pg.on(
      "error",
      (error) => this.#log(`Pool "${this.name}": idle connection failed, removed: ${error.message}`),
    );

    this.#poolAttributes = resolved.poolAttributes;
    this.#report = new PoolReporter(this.name, this.#poolAttributes, this.#tracer, this.#log);
    this.#host = {
      startSpan: (name, now, kind) => this.#startSpan(name, now, kind),
      poolName: this.name,
      queryAttributes: resolved.queryAttributes,
      notCaptured: this.captureAcquireSites === "never"
        ? `captureAcquireSites is "never"`
        : `the pool was healthy when it was acquired; captureAcquireSites is "adaptive"`,
      giveBack: (lease, client) => this.#giveBack(lease, client),
    };
    this.#watch = new LeakWatch(this.leakThresholdMs, () => this.#active.values(), (l) => this.#overThreshold(l));
    this.#metrics = new PoolMetrics(resolved.meter, this.name, () => this.stats(), {
      thresholdMs: this.leakThresholdMs,
      oldestAgeMs: () => this.#active.values().next().value?.ageMs ?? 0, // #active is oldest first
    });
  }

  /**
   * Takes a connection, waiting up to `acquireTimeoutMs` for one.
   * @throws {PoolExhaustedError} when every connection stayed out for the whole wait
   * @throws {PoolEndedError} when the pool is ended, or ends while this call waits
   * @throws {DatabaseConnectionError} when a new connection cannot be opened
   */
  async acquire(): Promise<Lease> {
    if (this.#ended) throw new PoolEndedError(this.name);
    const started = performance.now();
    const captured = this.#capturesSite(started) ? new Error("acquired here") : undefined; // formatted only if reported
    const parent = context.active();
    const scope = parent.getValue(SCOPE) as LeakScope | undefined;
    const span = this.#startSpan(POOL_SPANS.acquire, started);
    let client: pg.PoolClient;
    try {
      const connecting = this.#pg.connect();
      // Every connection is out, so this request waits: the history shows it.
      if (this.#active.size >= this.max) this.#record(performance.now(), "wait", 0);
      client = await connecting;
    } catch (error) {
      const failure = this.#acquireFailed(error, performance.now() - started);
      span.setAttribute("error.type", failure.name);
      span.setStatus({ code: SpanStatusCode.ERROR, message: failure.message });
      span.end();
      throw failure;
    }
    const now = performance.now();
    const lease = new Lease(++this.#nextId, client, now, span.spanContext(), captured, scope?.name, this.#host);
    this.#active.set(client, lease);
    this.#metrics.waited(now - started);
    this.#record(now, "acquire", lease.id);
    const at = span.isRecording() ? spanTime(now) : undefined;
    if (at) span.addEvent(POOL_EVENTS.acquired, this.#eventAttributes(lease.id), at);
    if (scope?.ended) {
      // An acquire() the scope did not await: nobody in the scope can return it now.
      this.#markLeaked(lease, `acquired for scope "${scope.name}" after it had ended (its acquire() was not awaited)`);
      this.#report.arrivedAfterScope(lease, scope, span, this.#leaked);
    } else if (scope) {
      scope.leases.add(lease);
      lease.scope = scope;
    }
    span.end(at);
    this.#watch.arm(lease);
    return lease;
  }

  /** Runs one query on a connection that is returned whatever happens. */
  async query<R extends pg.QueryResultRow = pg.QueryResultRow>(
    text: string,
    params?: unknown[],
  ): Promise<pg.QueryResult<R>> {
    await using lease = await this.acquire();
    return await lease.query<R>(text, params);
  }

  /**
   * Runs `fn` in a span named `name` and checks, when it ends, that every
   * connection it acquired came back. Each one still out is marked leaked and
   * recorded as a `connection_leaked` event on that span. Use one scope per
   * request (or per notebook cell).
   */
  async scope<T>(name: string, fn: (span: Span) => T | Promise<T>, options: ScopeOptions = {}): Promise<T> {
    const parent = context.active();
    const span = this.#tracingOff() ? NOT_RECORDING : this.#tracer.startSpan(name, options, parent);
    if (span !== NOT_RECORDING) this.#recording = span.isRecording();
    const scope: LeakScope = { name, span, leases: new Set(), ended: false };
    try {
      return await context.with(trace.setSpan(parent, span).setValue(SCOPE, scope), fn, undefined, span);
    } catch (error) {
      span.setStatus({ code: SpanStatusCode.ERROR, message: error instanceof Error ? error.message : String(error) });
      throw error;
    } finally {
      scope.ended = true;
      for (const lease of scope.leases) this.#leftScope(lease, scope);
      span.end();
    }
  }

  /** The pool's counters now. */
  stats(): PoolStats {
    const active = this.#active.size;
    return {
      max: this.max,
      total: this.#pg.totalCount - this.#closingCount,
      idle: this.#pg.idleCount,
      active,
      available: this.max - active,
      leaked: this.#leaked,
      waiting: this.#pg.waitingCount,
    };
  }

  /** The counters after each lease state change, oldest first (at most `historySize`). */
  history(): PoolSample[] {
    return this.#history.samples();
  }

  /** Leases detected as leaked and still out, oldest first. */
  leaks(): LeakReport[] {
    return [...this.#active.values()].filter((lease) => lease.leaked).map((lease) => lease.report());
  }

  /**
   * Closes every leaked connection so the pool can open fresh ones, and
   * zeroes the leaked count. A statement still running on a reclaimed
   * connection is cancelled too, so the server never carries more than `max`
   * busy backends for this pool. Returns how many it reclaimed.
   */
  reset(): number {
    const span = this.#tracer.startSpan(POOL_SPANS.reset, { attributes: this.#poolAttributes });
    const reclaimed = [...this.#active].filter(([, lease]) => lease.leaked);
    this.#reclaimAll(reclaimed);
    span.addEvent(POOL_EVENTS.reclaimed, { count: reclaimed.length, ...this.#eventAttributes(0) });
    span.end();
    return reclaimed.length;
  }

  /**
   * Ends the pool: `acquire()` calls still waiting fail at once with
   * `PoolEndedError`, connections still out are reported and closed (their
   * statements cancelled), and the leak watch stops.
   */
  end(): Promise<void> {
    if (this.#ended) return this.#ended;
    this.#watch.stop();
    this.#metrics.close();
    // pg-pool's end() never serves its queued connect() calls again, but leaves
    // each waiting for its whole timeout; answering them now ends the wait.
    const queued = (this.#pg as unknown as { _pendingQueue: { callback(error: Error): void }[] })._pendingQueue;
    for (const waiter of queued.splice(0)) waiter.callback(new PoolEndedError(this.name));
    this.#report.closingOutstanding([...this.#active.values()]);
    // pg-pool's end() resolves once it has let go of its clients, before their sockets have closed; a server stopped
    // right after would cut them off mid-goodbye. Each client says "remove" once it is really closed: wait for all.
    const open = this.#pg.totalCount;
    let removed = 0;
    const closed = new Promise<void>((resolve) => {
      if (open === 0) resolve();
      this.#pg.on("remove", () => ++removed >= open && resolve());
    });
    this.#reclaimAll([...this.#active]);
    return (this.#ended = Promise.all([this.#pg.end(), closed, ...this.#closing]).then(() => {}));
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.end();
  }

  #giveBack(lease: Lease, client: pg.PoolClient): void {
    const now = performance.now();
    const span = this.#startSpan(POOL_SPANS.release, now);
    this.#forget(lease, client, "released");
    const heldMs = now - lease.acquiredAt;
    if (lease.leaked) {
      this.#leaked--;
      this.#report.unleaked(lease, heldMs, span);
    }
    client.release();
    this.#metrics.used(heldMs);
    this.#record(now, "release", lease.id);
    if (span.isRecording()) {
      const at = spanTime(performance.now());
      span.addEvent(POOL_EVENTS.returned, this.#eventAttributes(lease.id), at);
      span.end(at);
    }
  }

  /**
   * Starts a span at `now`. While the tracer records nothing (tracing off),
   * one shared non-recording span stands in and the tracer is asked again
   * only every 64th time, so a pool without an OpenTelemetry SDK pays
   * nothing for its spans, and starts tracing within 64 spans of one being
   * installed.
   */
  #startSpan(name: string, now: number, kind?: SpanKind): Span {
    if (this.#tracingOff()) return NOT_RECORDING;
    const span = this.#tracer.startSpan(name, this.#recording ? { startTime: spanTime(now), kind } : { kind });
    this.#recording = span.isRecording();
    return span;
  }

  /** True while spans are not recorded, except on every 64th call, which asks the tracer again. */
  #tracingOff(): boolean {
    return !this.#recording && (++this.#sinceProbe & 63) !== 0;
  }

  /**
   * "always", "never", or "adaptive": while the pool has leaked connections,
   * and for 10 minutes after a leak or an exhaustion. A pool that is merely
   * busy (full, but giving connections back) pays nothing.
   */
  #capturesSite(now: number): boolean {
    if (this.captureAcquireSites !== "adaptive") return this.captureAcquireSites === "always";
    return this.#leaked > 0 || now < this.#capturingUntil;
  }

  #leftScope(lease: Lease, scope: LeakScope): void {
    lease.scope = undefined;
    if (lease.state !== "active") return;
    this.#markLeaked(lease, `still out when scope "${scope.name}" ended`);
    this.#report.outlivedScope(lease, scope, this.#leaked);
  }

  #overThreshold(lease: Lease): void {
    this.#markLeaked(
      lease,
      `held for ${Math.round(lease.ageMs)}ms, longer than leakThresholdMs=${this.leakThresholdMs}`,
    );
    this.#report.overThreshold(lease, this.#leaked);
  }

  #markLeaked(lease: Lease, why: string): void {
    if (lease.leaked) return;
    lease.leaked = true;
    lease.reported = true; // the threshold watch need not report it again
    this.#leaked++;
    const now = performance.now();
    this.#capturingUntil = now + CAPTURE_AFTER_TROUBLE_MS;
    this.#record(now, "leak", lease.id);
    this.#report.leaked(lease, why);
  }

  #lost(client: pg.PoolClient, error: Error): void {
    const lease = this.#active.get(client);
    if (!lease) return; // idle: pg-pool removes it itself
    lease.lossReason = error.message;
    this.#forget(lease, client, "lost");
    client.release(error); // pg-pool drops a client released with an error
    this.#record(performance.now(), "lost", lease.id);
    this.#report.lost(lease, error);
  }

  /**
   * Takes leases back from whoever holds them. They leave the books at once;
   * each connection's running statement is cancelled first and its socket
   * closed after, while the backend is still surely ours (a pid signalled
   * after its backend exited could already name another one).
   */
  #reclaimAll(leases: [pg.PoolClient, Lease][]): void {
    if (leases.length === 0) return;
    for (const [client, lease] of leases) {
      this.#forget(lease, client, "reclaimed");
      this.#closingCount++;
      this.#record(performance.now(), "reclaim", lease.id);
    }
    const closing = cancelStatements(leases.map(([, lease]) => lease.pid), {
      connectionString: this.#pg.options.connectionString ?? "",
      applicationName: `leak-lab:${this.name}:reclaim`,
      timeoutMs: this.acquireTimeoutMs,
      log: (message) => this.#log(`Pool "${this.name}": ${message}`),
    }).then(() => {
      for (const [client] of leases) client.release(true); // destroy: whoever leaked it may still hold the lease
      this.#closingCount -= leases.length;
    });
    this.#closing.add(closing);
    closing.finally(() => this.#closing.delete(closing));
  }

  /** Takes `lease` off the books; the caller decides what happens to the connection. */
  #forget(lease: Lease, client: pg.PoolClient, state: "released" | "reclaimed" | "lost"): void {
    this.#active.delete(client);
    lease.scope?.leases.delete(lease);
    lease.state = state;
    if (lease.leaked && state !== "released") {
      lease.leaked = false; // reclaimed or lost: no longer a leak anyone can fix
      this.#leaked--;
    }
  }

  #acquireFailed(error: unknown, waitedMs: number): Error {
    if (error instanceof PoolEndedError) return error;
    if (error instanceof Error && /timeout exceeded when trying to connect/.test(error.message)) {
      this.#metrics.timedOut();
      const now = performance.now();
      this.#capturingUntil = now + CAPTURE_AFTER_TROUBLE_MS;
      this.#record(now, "timeout", 0);
      return new PoolExhaustedError(this.name, waitedMs, this.stats(), this.#holders(), { cause: error });
    }
    return describeConnectionError(error, this.#pg.options.connectionString ?? "");
  }

  /** Who holds the connections: every leaked lease first, then the oldest others, up to `maxReportedHolders`. */
  #holders(): Holder[] {
    const leases = [...this.#active.values()];
    const ordered = [...leases.filter((lease) => lease.leaked), ...leases.filter((lease) => !lease.leaked)];
    return ordered.slice(0, this.#maxReportedHolders).map((lease) => lease.holder());
  }

  /** The pool counts carried by `connection_acquired`, `connection_returned_safely` and `connections_reclaimed`. */
  #eventAttributes(leaseId: number): Attributes {
    return poolEventAttributes(this.name, leaseId, this.max, this.#active.size, this.#leaked, this.#pg.waitingCount);
  }

  #record(now: number, change: PoolChange, leaseId: number): void {
    const pool = this.#pg;
    this.#history.record(
      now,
      change,
      leaseId,
      pool.totalCount,
      pool.idleCount,
      this.#active.size,
      this.#leaked,
      pool.waitingCount,
    );
  }
}
