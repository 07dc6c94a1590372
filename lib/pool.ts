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
import { describeConnectionError } from "./database.ts";
import { type LeakScope, Lease, type LeaseHost } from "./pool/lease.ts";
import { LeakWatch } from "./pool/leak_watch.ts";
import { PoolEndedError, PoolExhaustedError } from "./pool/errors.ts";
import { PoolMetrics } from "./pool/metrics.ts";
import { poolEventAttributes, PoolReporter } from "./pool/reporter.ts";
import { resolvePoolOptions, type TracedPoolOptions } from "./pool/options.ts";
import type { Holder, LeakReport, PoolChange, PoolSample, PoolStats, ScopeOptions } from "./pool/types.ts";
import { Ring } from "./util/ring.ts";

export { ALERT_THRESHOLDS, type AlertThresholds } from "./pool/alert_thresholds.ts";
export { Lease, type LeaseState } from "./pool/lease.ts";
export { LeaseReleasedError, PoolEndedError, PoolExhaustedError } from "./pool/errors.ts";
export type { TracedPoolOptions } from "./pool/options.ts";
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
      queryAttributes: resolved.queryAttributes,
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
   * @throws {DatabaseConnectionError} when a new connection cannot be opened
   */
  async acquire(): Promise<Lease> {
    if (this.#ended) throw new PoolEndedError(this.name);
    const captured = this.#captureSites ? new Error("acquired here") : undefined; // stack formatted only if reported
    const started = performance.now();
    const span = this.#tracer.startSpan("get_connection", { startTime: hrTime(started) });
    let client: pg.PoolClient;
    try {
      client = await this.#pg.connect();
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
    const scope = this.#scopes.getStore();
    if (scope) {
      scope.leases.add(lease);
      lease.scope = scope;
    }
    this.#metrics.waited(now - started);
    const sample = this.#record("acquire", lease);
    if (span.isRecording()) {
      const at = hrTime(now);
      span.addEvent("connection_acquired", poolEventAttributes(this.name, sample, lease.id), at);
      span.end(at);
    }
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
    const scope: LeakScope = { name, span, leases: new Set() };
    try {
      return await context.with(trace.setSpan(context.active(), span), () => this.#scopes.run(scope, () => fn(span)));
    } catch (error) {
      span.setStatus({ code: SpanStatusCode.ERROR, message: error instanceof Error ? error.message : String(error) });
      throw error;
    } finally {
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
   * zeroes the leaked count. Returns how many it reclaimed.
   */
  reset(): number {
    const span = this.#tracer.startSpan("pool.reset", { attributes: this.#poolAttributes });
    let reclaimed = 0;
    for (const [client, lease] of this.#active) {
      if (!lease.leaked) continue;
      this.#reclaim(lease, client);
      reclaimed++;
    }
    span.addEvent("connections_reclaimed", { count: reclaimed, ...poolEventAttributes(this.name, this.stats()) });
    span.end();
    return reclaimed;
  }

  /** Closes every connection, leased ones included (they are reported), and stops the leak watch. */
  end(): Promise<void> {
    if (this.#ended) return this.#ended;
    this.#watch.stop();
    this.#metrics.close();
    this.#report.closingOutstanding([...this.#active.values()]);
    for (const [client, lease] of this.#active) this.#reclaim(lease, client);
    return (this.#ended = this.#pg.end());
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.end();
  }

  #giveBack(lease: Lease, client: pg.PoolClient): void {
    const now = performance.now();
    const span = this.#tracer.startSpan("return_connection", { startTime: hrTime(now) });
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
      span.addEvent("connection_returned_safely", poolEventAttributes(this.name, sample, lease.id), at);
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

  #reclaim(lease: Lease, client: pg.PoolClient): void {
    this.#forget(lease, client, "reclaimed");
    client.release(true); // destroy: whoever leaked it may still hold the lease
    this.#record("reclaim", lease);
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
    if (error instanceof Error && /timeout exceeded when trying to connect/.test(error.message)) {
      this.#metrics.timedOut();
      const sample = this.#record("timeout");
      return new PoolExhaustedError(this.name, waitedMs, sample, this.#holders(3), { cause: error });
    }
    return describeConnectionError(error, this.#pg.options.connectionString ?? "");
  }

  #holders(count: number): Holder[] {
    return [...this.#active.values()].slice(0, count).map((lease) => lease.holder());
  }

  #record(change: PoolChange, lease?: Lease): PoolSample {
    const sample: PoolSample = { at: Date.now(), change, leaseId: lease?.id, ...this.stats() };
    this.#history.push(sample);
    return sample;
  }
}
