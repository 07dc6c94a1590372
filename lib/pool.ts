/**
 * TracedPool: a node-postgres `Pool` that shows every lease in traces, counts what is out, notices leaks and, when it
 * runs dry, says who holds the connections. It is a `pg.Pool` too (see `pool/pg_surface.ts`): `connect()` clients
 * are traced and leak-checked like `acquire()`'s leases.
 *
 * Every state change is visible, as in pg-pool (names in `pool/trace_names.ts`; leaking spans: `leaklab.leak=true`):
 *
 * | call                      | span                       | event                         |
 * |---------------------------|----------------------------|-------------------------------|
 * | `acquire()`, `connect()`  | `get_connection`           | `connection_acquired`         |
 * | `lease.query()`           | `database.query`           | `query_error` on failure      |
 * | `lease.release()`         | `return_connection`        | `connection_returned_safely`  |
 * | `scope()` ends, lease out | the scope's own span       | `connection_leaked`           |
 * | held past the threshold   | `connection_leak_detected` | `connection_leaked`           |
 * | server kills a lease      | `connection_lost`          |                               |
 *
 * @example
 * ```ts ignore
 * import { TracedPool } from "./pool.ts";
 * await using pool = new TracedPool({ connectionString: Deno.env.get("DATABASE_URL")! }); // ended when the block ends
 * await pool.scope("list_sensors", async () => {
 *   await using conn = await pool.acquire();
 *   return (await conn.query("SELECT * FROM sensors LIMIT $1", [10])).rows;
 * }); // pool.stats() now: { max: 5, total: 1, idle: 1, active: 0, ... }
 * ```
 *
 * @module
 */
import { context, SpanStatusCode } from "@opentelemetry/api";
// @ts-types="@types/pg"
import type pg from "pg";
import { describeConnectionError } from "./postgres.ts";
import { SiteCapture } from "./pool/acquire_site.ts";
import { PoolEndedError, PoolExhaustedError } from "./pool/errors.ts";
import { PoolHistory } from "./pool/history.ts";
import { holders, Lease, type LeaseHost } from "./pool/lease.ts";
import { LeakWatch } from "./pool/leak_watch.ts";
import { PoolMetrics } from "./pool/metrics.ts";
import { resolvePoolOptions } from "./pool/options.ts";
import type { AcquireSitePolicy, ResolvedPoolOptions, TracedPoolOptions } from "./pool/options.ts";
import { failQueuedConnects, openPgPool, whenEveryClientRemoved } from "./pool/pg_pool.ts";
import { PgPoolSurface } from "./pool/pg_surface.ts";
import { PoolSpans } from "./pool/pool_spans.ts";
import { Reclaimer } from "./pool/reclaim.ts";
import { poolEventAttributes, PoolReporter } from "./pool/reporter.ts";
import { enterScope, leaveScope, openScope, requestOf, scopeOf, watchLateArrival } from "./pool/scopes.ts";
import { spanTime } from "./util/span_time.ts";
import { POOL_EVENTS, POOL_SPANS } from "./pool/trace_names.ts";
import type { Attributes, PgPool, Span } from "./util/public_types.ts";
import type { LeakReport, PoolChange, PoolSample, PoolStats, ScopeOptions } from "./pool/types.ts";
import { ensureContextManager } from "./util/context_manager.ts";

export { ALERT_THRESHOLDS, type AlertThresholds } from "./pool/alert_thresholds.ts";
export { keepLeaks, type Sampler } from "./pool/keep_leaks.ts";
export { type LeakScope, Lease, type LeaseHost, type LeaseState } from "./pool/lease.ts";
export { type ConnectCallback, PgPoolSurface } from "./pool/pg_surface.ts";
export { LeaseReleasedError, PoolEndedError, PoolExhaustedError } from "./pool/errors.ts";
export type { AcquireSitePolicy, TracedPoolOptions } from "./pool/options.ts";
export * from "./pool/trace_names.ts";
export type * from "./pool/types.ts";

/** A node-postgres pool with spans, stats, leak detection and exhaustion errors that name the holders. */
export class TracedPool extends PgPoolSurface implements PgPool {
  /** The pool's name, on its spans, metrics and messages. */
  readonly name: string;
  /** How many connections it may open. */
  readonly max: number;
  /** How long `acquire()` waits for a connection before PoolExhaustedError. */
  readonly acquireTimeoutMs: number;
  /** How long a lease may be out before it is reported leaked. */
  readonly leakThresholdMs: number;
  /** When `acquire()` records where it was called: see {@linkcode TracedPoolOptions.captureAcquireSites}. */
  readonly captureAcquireSites: AcquireSitePolicy;
  readonly #pg: pg.Pool;
  readonly #spans: PoolSpans;
  readonly #sites: SiteCapture;
  readonly #report: PoolReporter;
  readonly #active = new Map<pg.PoolClient, Lease>(); // insertion order = oldest first
  readonly #history: PoolHistory;
  readonly #watch: LeakWatch;
  readonly #metrics: PoolMetrics;
  readonly #host: LeaseHost;
  readonly #options: ResolvedPoolOptions;
  readonly #reclaimer: Reclaimer;
  #leaked = 0;
  #nextId = 0;
  #ended: Promise<void> | undefined;

  /** Opens no connection until the first `acquire()`. @throws {RangeError} naming the first bad option and its value */
  constructor(options: TracedPoolOptions) {
    super();
    const resolved = (this.#options = resolvePoolOptions(options));
    this.name = resolved.name;
    this.max = resolved.max;
    this.acquireTimeoutMs = resolved.acquireTimeoutMs;
    this.leakThresholdMs = resolved.leakThresholdMs;
    this.captureAcquireSites = resolved.captureAcquireSites;
    this.#history = new PoolHistory(resolved.historySize, this.max);
    this.#spans = new PoolSpans(resolved.tracer);
    this.#sites = new SiteCapture(this.captureAcquireSites);
    ensureContextManager(); // scopes ride in the OpenTelemetry context, traced or not

    this.#pg = openPgPool(resolved, (client, error) => this.#lost(client, error));
    this.forwardPgEvents();
    this.#report = new PoolReporter(this.name, resolved.poolAttributes, resolved.tracer, resolved.log);
    this.#reclaimer = new Reclaimer(resolved);
    this.#host = {
      startSpan: (name, now, kind) => this.#spans.start(name, now, kind),
      poolName: this.name,
      queryAttributes: resolved.queryAttributes,
      notCaptured: this.#sites.whyNotCaptured,
      giveBack: (lease, client, destroy) => this.#giveBack(lease, client, destroy),
    };
    this.#watch = new LeakWatch(this.leakThresholdMs, () => this.#active.values(), (lease) => {
      const why = `held for ${Math.round(lease.ageMs)}ms, longer than leakThresholdMs=${this.leakThresholdMs}`;
      this.#markLeaked(lease, why);
      this.#report.overThreshold(lease, this.#leaked);
    });
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
    const captured = this.#sites.wanted(started, this.#leaked) ? new Error("acquired here") : undefined; // formatted only if reported
    const active = context.active();
    const scope = scopeOf(active);
    // A scope's span asked the sampler once for the whole request; outside a scope every span asks.
    const traced = scope ? scope.traced : true;
    const span = traced ? this.#spans.start(POOL_SPANS.acquire, started, undefined, active) : undefined;
    let client: pg.PoolClient;
    try {
      const connecting = this.#pg.connect();
      // Every connection is out, so this request waits: the history shows it.
      if (this.#active.size >= this.max) this.#record(performance.now(), "wait", 0);
      client = await connecting;
    } catch (error) {
      const failure = this.#acquireFailed(error, performance.now() - started);
      this.#report.acquireFailed(failure, span, scope ? scope.trace : requestOf(active), started);
      throw failure;
    }
    const now = performance.now();
    const recorded = span?.isRecording() ?? false;
    // Reports name the trace: this get_connection when recorded, else the request it ran in.
    const reported = recorded ? span!.spanContext() : scope ? scope.trace : requestOf(active);
    const lease = new Lease(++this.#nextId, client, now, reported, traced, captured, scope?.name, this.#host);
    this.#active.set(client, lease);
    this.#metrics.waited(now - started);
    this.#record(now, "acquire", lease.id);
    const at = recorded ? spanTime(now) : undefined;
    if (at) span!.addEvent(POOL_EVENTS.acquired, this.#eventAttributes(lease.id), at);
    if (scope?.ended) {
      // An acquire() the scope did not await: nobody in the scope can return it now.
      watchLateArrival(lease, this.#options.lateAcquireGraceMs, () => {
        const why = `acquired for scope "${scope.name}" after it had ended (its acquire() was not awaited)`;
        this.#markLeaked(lease, `${why}, and still out ${this.#options.lateAcquireGraceMs}ms later`);
        this.#report.arrivedAfterScope(lease, scope, undefined, this.#leaked);
      });
    } else if (scope) {
      enterScope(lease, scope);
    }
    span?.end(at);
    this.#watch.arm(lease);
    return lease;
  }

  /**
   * Runs `fn` in a span named `name` and checks, when it ends, that every
   * connection it acquired came back. Each one still out is marked leaked and
   * recorded as a `connection_leaked` event on that span. Use one scope per
   * request (or per notebook cell).
   */
  async scope<T>(name: string, fn: (span: Span) => T | Promise<T>, options: ScopeOptions = {}): Promise<T> {
    const parent = context.active();
    const span = this.#spans.startWith(name, options, performance.now(), parent); // none without an SDK
    const { scope, inScope, given } = openScope(name, span, parent);
    try {
      return await context.with(inScope, fn, undefined, given);
    } catch (error) {
      span?.setStatus({ code: SpanStatusCode.ERROR, message: error instanceof Error ? error.message : String(error) });
      throw error;
    } finally {
      scope.ended = true;
      if (scope.open > 0) {
        for (const lease of [...this.#active.values()]) { // at most max: cheaper than a set per scope
          if (lease.scope !== scope) continue;
          leaveScope(lease);
          if (lease.leaked) continue; // reported already (past the threshold): never twice
          this.#markLeaked(lease, `still out when scope "${scope.name}" ended`);
          this.#report.outlivedScope(lease, scope, this.#leaked);
        }
      }
      span?.end(spanTime(performance.now()));
    }
  }

  /** The pool's counters now. */
  stats(): PoolStats {
    const active = this.#active.size;
    return {
      max: this.max,
      total: this.#pg.totalCount - this.#reclaimer.closing,
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
    const span = this.#spans.startWith(
      POOL_SPANS.reset,
      { attributes: this.#options.poolAttributes },
      performance.now(),
    );
    const reclaimed = [...this.#active].filter(([, lease]) => lease.leaked);
    this.#reclaimAll(reclaimed);
    span?.addEvent(POOL_EVENTS.reclaimed, { count: reclaimed.length, ...this.#eventAttributes(0) });
    span?.end(spanTime(performance.now()));
    return reclaimed.length;
  }

  /** See `end()`: what ending takes, once. */
  protected endPool(): Promise<void> {
    if (this.#ended) return this.#ended;
    this.#watch.stop();
    this.#metrics.close();
    failQueuedConnects(this.#pg, new PoolEndedError(this.name));
    this.#report.closingOutstanding([...this.#active.values()]);
    const socketsClosed = whenEveryClientRemoved(this.#pg); // counted before the reclaim below closes any
    this.#reclaimAll([...this.#active]);
    return (this.#ended = Promise.all([this.#pg.end(), socketsClosed, this.#reclaimer.settled()]).then(() => {}));
  }

  /** node-postgres' pool underneath: what `PgPoolSurface` reads its counters from. */
  protected get pgPool(): PgPool {
    return this.#pg;
  }

  #giveBack(lease: Lease, client: pg.PoolClient, destroy?: Error | boolean): void {
    const now = performance.now();
    const span = lease.traced ? this.#spans.start(POOL_SPANS.release, now) : undefined;
    this.#forget(lease, client, "released");
    const heldMs = now - lease.acquiredAt;
    if (lease.leaked) {
      this.#leaked--;
      this.#report.unleaked(lease, heldMs, span);
    }
    lease.releaseToPg(destroy);
    this.#metrics.used(heldMs);
    this.#record(now, "release", lease.id);
    if (span?.isRecording()) {
      const at = spanTime(performance.now());
      span.addEvent(POOL_EVENTS.returned, this.#eventAttributes(lease.id), at);
      span.end(at);
    }
  }

  #markLeaked(lease: Lease, why: string): void {
    if (lease.leaked) return;
    lease.leaked = true;
    lease.reported = true; // the threshold watch need not report it again
    this.#leaked++;
    const now = performance.now();
    this.#sites.troubleAt(now);
    this.#record(now, "leak", lease.id);
    this.#report.leaked(lease, why);
  }

  #lost(client: pg.PoolClient, error: Error): void {
    const lease = this.#active.get(client);
    if (!lease) return; // idle: pg-pool removes it itself
    lease.lossReason = error.message;
    this.#forget(lease, client, "lost");
    lease.releaseToPg(error); // pg-pool drops a client released with an error
    this.#record(performance.now(), "lost", lease.id);
    this.#report.lost(lease, error);
  }

  /** Takes leases back from whoever holds them: off the books at once, their connections closed by the reclaimer. */
  #reclaimAll(leases: [pg.PoolClient, Lease][]): void {
    for (const [client, lease] of leases) {
      this.#forget(lease, client, "reclaimed");
      this.#record(performance.now(), "reclaim", lease.id);
    }
    this.#reclaimer.reclaim(leases.map(([, lease]) => lease));
  }

  /** Takes `lease` off the books; the caller decides what happens to the connection. */
  #forget(lease: Lease, client: pg.PoolClient, state: "released" | "reclaimed" | "lost"): void {
    this.#active.delete(client);
    leaveScope(lease);
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
      this.#sites.troubleAt(now);
      this.#record(now, "timeout", 0);
      const named = holders(this.#active.values(), this.#options.maxReportedHolders);
      return new PoolExhaustedError(this.name, waitedMs, this.stats(), named, { cause: error });
    }
    return describeConnectionError(error, this.#options.connectionString);
  }

  /** The pool counts carried by `connection_acquired`, `connection_returned_safely` and `connections_reclaimed`. */
  #eventAttributes(leaseId: number): Attributes {
    return poolEventAttributes(this.name, leaseId, this.max, this.#active.size, this.#leaked, this.#pg.waitingCount);
  }

  #record(now: number, change: PoolChange, leaseId: number): void {
    const { totalCount, idleCount, waitingCount } = this.#pg;
    const total = totalCount - this.#reclaimer.closing; // as stats() counts it, without allocating one
    this.#history.record(now, change, leaseId, total, idleCount, this.#active.size, this.#leaked, waitingCount);
  }
}
