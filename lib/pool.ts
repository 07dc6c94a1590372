/**
 * TracedPool: a node-postgres `Pool` that shows every lease in traces, counts
 * what is out, notices leaks and, when it runs dry, says who holds the
 * connections.
 *
 * Every state change is visible, as in pg-pool's events:
 *
 * | call                     | span                   | event                         |
 * |--------------------------|------------------------|-------------------------------|
 * | `acquire()`              | `get_connection`       | `connection_acquired`         |
 * | `lease.query()`          | `database.query`       | `query_error` on failure      |
 * | `lease.release()`        | `return_connection`    | `connection_returned_safely`  |
 * | `scope()` ends, lease out| the scope's own span   | `connection_leaked`           |
 * | held past the threshold  | `connection_leak_detected` | `connection_leaked`       |
 * | server kills a lease     | `connection_lost`      |                               |
 *
 * Spans are started with an explicit parent instead of being made active, and
 * attributes are built once per pool: the tracing must stay cheap enough to
 * leave on in production.
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
import { AsyncLocalStorage } from "node:async_hooks";
import { type Attributes, context, type Span, SpanStatusCode, trace, type Tracer } from "@opentelemetry/api";
import { hrTime } from "@opentelemetry/core";
import pg from "pg";
import { connectClient, describeConnectionError } from "./database.ts";
import { type LeakScope, Lease, type LeaseHost } from "./pool/lease.ts";
import { LeakWatch } from "./pool/leak_watch.ts";
import { PoolEndedError, PoolExhaustedError } from "./pool/errors.ts";
import { PoolMetrics } from "./pool/metrics.ts";
import { poolEventAttributes, PoolReporter } from "./pool/reporter.ts";
import { resolvePoolOptions, type TracedPoolOptions } from "./pool/options.ts";
import { POOL_EVENTS, POOL_SPANS } from "./pool/trace_names.ts";
import type { Holder, LeakReport, PoolChange, PoolSample, PoolStats, ScopeOptions } from "./pool/types.ts";
import { Ring } from "./util/ring.ts";

export { ALERT_THRESHOLDS, type AlertThresholds } from "./pool/alert_thresholds.ts";
export { Lease, type LeaseState } from "./pool/lease.ts";
export { LeaseReleasedError, PoolEndedError, PoolExhaustedError } from "./pool/errors.ts";
export type { TracedPoolOptions } from "./pool/options.ts";
export { LEAK_ATTRIBUTE, LEAK_SEARCH_TAGS, POOL_EVENTS, POOL_SPANS } from "./pool/trace_names.ts";
export type * from "./pool/types.ts";

/** A node-postgres pool with spans, stats, leak detection and exhaustion errors that name the holders. */
export class TracedPool {
  readonly name: string;
  readonly max: number;
  readonly acquireTimeoutMs: number;
  readonly leakThresholdMs: number;
  readonly #pg: pg.Pool;
  readonly #tracer: Tracer;
  readonly #report: PoolReporter;
  readonly #active = new Map<pg.PoolClient, Lease>(); // insertion order = oldest first
  readonly #scopes = new AsyncLocalStorage<LeakScope>();
  readonly #history: Ring<PoolSample>;
  readonly #watch: LeakWatch;
  readonly #metrics: PoolMetrics;
  readonly #host: LeaseHost;
  readonly #poolAttributes: Attributes;
  readonly #captureSites: boolean;
  readonly #maxReportedHolders: number;
  readonly #log: (message: string) => void;
  /** Statement cancels sent by reset() and end(), awaited by end(). */
  readonly #cancelling = new Set<Promise<void>>();
  #leaked = 0;
  #nextId = 0;
  #ended: Promise<void> | undefined;

  /** @throws {RangeError} naming the first bad option and its value */
  constructor(options: TracedPoolOptions) {
    const resolved = resolvePoolOptions(options);
    this.name = resolved.name;
    this.max = resolved.max;
    this.acquireTimeoutMs = resolved.acquireTimeoutMs;
    this.leakThresholdMs = resolved.leakThresholdMs;
    this.#history = new Ring(resolved.historySize);
    this.#tracer = resolved.tracer;
    this.#captureSites = resolved.captureAcquireSites;
    this.#maxReportedHolders = resolved.maxReportedHolders;
    this.#log = resolved.log;

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
      (error) => resolved.log(`Pool "${this.name}": idle connection failed, removed: ${error.message}`),
    );

    this.#poolAttributes = resolved.poolAttributes;
    this.#report = new PoolReporter(this.name, this.#poolAttributes, this.#tracer, resolved.log);
    this.#host = {
      tracer: this.#tracer,
      poolName: this.name,
      queryAttributes: resolved.queryAttributes,
      giveBack: (lease, client) => this.#giveBack(lease, client),
    };
    this.#watch = new LeakWatch(this.leakThresholdMs, () => this.#active.values(), (l) => this.#overThreshold(l));
    this.#metrics = new PoolMetrics(resolved.meter, this.name, () => this.stats());
  }

  /**
   * Takes a connection, waiting up to `acquireTimeoutMs` for one.
   * @throws {PoolExhaustedError} when every connection stayed out for the whole wait
   * @throws {PoolEndedError} when the pool is ended, or ends while this call waits
   * @throws {DatabaseConnectionError} when a new connection cannot be opened
   */
  async acquire(): Promise<Lease> {
    if (this.#ended) throw new PoolEndedError(this.name);
    const captured = this.#captureSites ? new Error("acquired here") : undefined; // stack formatted only if reported
    const scope = this.#scopes.getStore();
    const started = performance.now();
    const span = this.#tracer.startSpan(POOL_SPANS.acquire, { startTime: hrTime(started) });
    let client: pg.PoolClient;
    try {
      const connecting = this.#pg.connect();
      // Every connection is out, so this request waits: the history shows it.
      if (this.#active.size >= this.max) this.#record("wait");
      client = await connecting;
    } catch (error) {
      const failure = this.#acquireFailed(error, performance.now() - started);
      span.setAttribute("error.type", failure.name);
      span.setStatus({ code: SpanStatusCode.ERROR, message: failure.message });
      span.end();
      throw failure;
    }
    const now = performance.now();
    const lease = new Lease(++this.#nextId, client, now, span.spanContext(), captured, this.#host);
    this.#active.set(client, lease);
    this.#metrics.waited(now - started);
    const sample = this.#record("acquire", lease);
    const at = span.isRecording() ? hrTime(now) : undefined;
    if (at) span.addEvent(POOL_EVENTS.acquired, poolEventAttributes(this.name, sample, lease.id), at);
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
    const span = this.#tracer.startSpan(name, options);
    const scope: LeakScope = { name, span, leases: new Set(), ended: false };
    try {
      return await context.with(trace.setSpan(context.active(), span), () => this.#scopes.run(scope, () => fn(span)));
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
      total: this.#pg.totalCount,
      idle: this.#pg.idleCount,
      active,
      available: this.max - active,
      leaked: this.#leaked,
      waiting: this.#pg.waitingCount,
    };
  }

  /** Stats after each lease state change, oldest first (at most `historySize`). */
  history(): PoolSample[] {
    return this.#history.toArray();
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
    span.addEvent(POOL_EVENTS.reclaimed, {
      count: reclaimed.length,
      ...poolEventAttributes(this.name, this.stats()),
    });
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
    this.#reclaimAll([...this.#active]);
    return (this.#ended = Promise.all([this.#pg.end(), ...this.#cancelling]).then(() => {}));
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.end();
  }

  #giveBack(lease: Lease, client: pg.PoolClient): void {
    const now = performance.now();
    const span = this.#tracer.startSpan(POOL_SPANS.release, { startTime: hrTime(now) });
    this.#forget(lease, client, "released");
    const heldMs = now - lease.acquiredAt;
    if (lease.leaked) {
      this.#leaked--;
      this.#report.unleaked(lease, heldMs, span);
    }
    client.release();
    this.#metrics.used(heldMs);
    const sample = this.#record("release", lease);
    if (span.isRecording()) {
      const at = hrTime(performance.now());
      span.addEvent(POOL_EVENTS.returned, poolEventAttributes(this.name, sample, lease.id), at);
      span.end(at);
    }
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
    this.#record("leak", lease);
    this.#report.leaked(lease, why);
  }

  #lost(client: pg.PoolClient, error: Error): void {
    const lease = this.#active.get(client);
    if (!lease) return; // idle: pg-pool removes it itself
    lease.lossReason = error.message;
    this.#forget(lease, client, "lost");
    client.release(error); // pg-pool drops a client released with an error
    this.#record("lost", lease);
    this.#report.lost(lease, error);
  }

  /** Takes leases back from whoever holds them: their connections are closed, their statements cancelled. */
  #reclaimAll(leases: [pg.PoolClient, Lease][]): void {
    if (leases.length === 0) return;
    for (const [client, lease] of leases) {
      this.#forget(lease, client, "reclaimed");
      client.release(true); // destroy: whoever leaked it may still hold the lease
      this.#record("reclaim", lease);
    }
    const cancel = this.#cancelStatements(leases.map(([, lease]) => lease.pid));
    this.#cancelling.add(cancel);
    cancel.finally(() => this.#cancelling.delete(cancel));
  }

  /**
   * Closing a socket does not stop the statement its backend is running (a
   * reclaimed `pg_sleep(6)` stays active), so the backends are asked to cancel
   * it; a backend that is idle ignores the request.
   */
  async #cancelStatements(pids: number[]): Promise<void> {
    try {
      const admin = await connectClient(this.#pg.options.connectionString ?? "", {
        timeoutMs: this.acquireTimeoutMs,
        applicationName: `leak-lab:${this.name}:reclaim`,
      });
      try {
        await admin.query("SELECT pg_cancel_backend(pid) FROM unnest($1::int[]) AS pid", [pids]);
      } finally {
        await admin.end();
      }
    } catch (error) {
      this.#log(
        `Pool "${this.name}" reclaimed connections but could not cancel their statements (backend pids ` +
          `${pids.join(", ")}): ${error instanceof Error ? error.message : String(error)}`,
      );
    }
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
      const sample = this.#record("timeout");
      return new PoolExhaustedError(this.name, waitedMs, sample, this.#holders(), { cause: error });
    }
    return describeConnectionError(error, this.#pg.options.connectionString ?? "");
  }

  /** Who holds the connections: every leaked lease first, then the oldest others, up to `maxReportedHolders`. */
  #holders(): Holder[] {
    const leases = [...this.#active.values()];
    const ordered = [...leases.filter((lease) => lease.leaked), ...leases.filter((lease) => !lease.leaked)];
    return ordered.slice(0, this.#maxReportedHolders).map((lease) => lease.holder());
  }

  #record(change: PoolChange, lease?: Lease): PoolSample {
    const sample: PoolSample = { at: Date.now(), change, leaseId: lease?.id, ...this.stats() };
    this.#history.push(sample);
    return sample;
  }
}
