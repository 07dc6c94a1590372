/**
 * The node-postgres `Pool` contract, as pg-pool's `index.js` keeps it, on top
 * of TracedPool's leases: code written for `PgPool` (Kysely's
 * `PostgresDialect`, Drizzle's node-postgres driver, a hand-written
 * `pool.connect()`) runs unchanged, and every connection it takes is counted,
 * traced and leak-checked like `pool.acquire()`'s.
 *
 * - `connect()` and `connect(callback)` hand out the pg client itself (see
 *   `Lease.asPoolClient`); `client.release(err?)` returns it, destroying it
 *   for an error or `true`.
 * - `query()` takes every form `PgPool.query` takes: text and values, a
 *   `QueryConfig`, a trailing callback, a `Submittable` (a stream, run on a
 *   connection of its own that goes back when it ends).
 * - `connect`, `acquire`, `release`, `remove` and `error` are re-emitted as
 *   pg-pool emits them; an idle client's `error` is re-emitted only to a
 *   listener, so it never kills the process.
 * - `totalCount`, `idleCount`, `waitingCount`, `expiredCount`, `ending`,
 *   `ended` and `options` read pg-pool's own.
 *
 * @module
 */
import { EventEmitter } from "node:events";
import type {
  PgPool,
  PgPoolClient,
  PgPoolOptions,
  QueryArrayConfig,
  QueryArrayResult,
  QueryConfig,
  QueryResult,
  QueryResultRow,
  Submittable,
} from "../util/public_types.ts";
import type { Lease } from "./lease.ts";

/** pg-pool's events, re-emitted with their arguments. */
const PG_POOL_EVENTS = ["connect", "acquire", "release", "remove", "error"] as const;

/** A pg `connect()` callback: `done(err?)` is `client.release(err?)`. */
export type ConnectCallback = (
  err: Error | undefined,
  client: PgPoolClient | undefined,
  done: (release?: Error | boolean) => void,
) => void;

/** The `PgPool` API over a pool of leases: what TracedPool inherits. */
export abstract class PgPoolSurface extends EventEmitter {
  /** The node-postgres pool underneath, whose counters and options these are. */
  protected abstract get pgPool(): PgPool;
  /** Takes a connection: see `TracedPool.acquire`. */
  abstract acquire(): Promise<Lease>;

  /** Ends the pool (see `end()`); called once per `end()`, it returns the same promise each time. */
  protected abstract endPool(): Promise<void>;

  /**
   * Ends the pool: `acquire()` calls still waiting fail at once with
   * `PoolEndedError`, connections still out are reported and closed (their
   * statements cancelled), and the leak watch stops.
   */
  end(): Promise<void>;
  /** Ends the pool, then calls `callback`, as `PgPool.end(callback)`. */
  end(callback: () => void): void;
  end(callback?: () => void): Promise<void> | void {
    const ended = this.endPool();
    if (!callback) return ended;
    ended.then(() => callback(), () => callback());
  }

  /** `await using pool = new TracedPool(…)` ends it at scope exit. */
  async [Symbol.asyncDispose](): Promise<void> {
    await this.end();
  }

  /** Re-emits pg-pool's events from this pool; call once `pgPool` exists. */
  protected forwardPgEvents(): void {
    for (const event of PG_POOL_EVENTS) {
      (this.pgPool as EventEmitter).on(event, (...args: unknown[]) => {
        // pg-pool's idle-client error kills a process with no listener; ours is heard by TracedPool already.
        if (event !== "error" || this.listenerCount("error") > 0) this.emit(event, ...args);
      });
    }
  }

  /** Connections open now, idle and checked out (pg-pool's count). */
  get totalCount(): number {
    return this.pgPool.totalCount;
  }
  /** Open connections waiting in the pool. */
  get idleCount(): number {
    return this.pgPool.idleCount;
  }
  /** `connect()` / `acquire()` calls queued for a connection. */
  get waitingCount(): number {
    return this.pgPool.waitingCount;
  }
  /** Connections past `maxLifetimeSeconds` or `maxUses`, closed when they come back. */
  get expiredCount(): number {
    return this.pgPool.expiredCount;
  }
  /** True once `end()` was called. */
  get ending(): boolean {
    return this.pgPool.ending;
  }
  /** True once every connection is closed after `end()`. */
  get ended(): boolean {
    return this.pgPool.ended;
  }
  /** pg-pool's options, as node-postgres resolved them. */
  get options(): PgPoolOptions {
    return this.pgPool.options;
  }

  /**
   * Takes a connection, as `PgPool.connect()`: the pg client, traced and
   * leak-checked like a lease; return it with `client.release()`.
   */
  connect(): Promise<PgPoolClient>;
  /** Takes a connection and calls back with it (or the error) and its `done`. */
  connect(callback: ConnectCallback): void;
  connect(callback?: ConnectCallback): Promise<PgPoolClient> | void {
    const connected = this.acquire().then((lease) => lease.asPoolClient());
    if (!callback) return connected;
    connected.then(
      (client) => callback(undefined, client, (release) => client.release(release)),
      (error) => callback(error, undefined, () => {}),
    );
  }

  /** A stream (pg-cursor, pg-query-stream) on a connection of its own, returned when the stream ends. */
  query<T extends Submittable>(queryStream: T): T;
  /** One query in `rowMode: "array"` on a connection that is returned whatever happens. */
  query<R extends unknown[] = unknown[]>(
    config: QueryArrayConfig,
    values?: unknown[],
  ): Promise<QueryArrayResult<R>>;
  /** One query on a connection that is returned whatever happens. */
  // deno-lint-ignore no-explicit-any
  query<R extends QueryResultRow = any>(
    query: string | QueryConfig,
    values?: unknown[],
  ): Promise<QueryResult<R>>;
  /** The same, reporting to a callback. */
  // deno-lint-ignore no-explicit-any
  query<R extends QueryResultRow = any>(
    query: string | QueryConfig,
    callback: (err: Error | undefined, result: QueryResult<R>) => void,
  ): void;
  /** The same with values, reporting to a callback. */
  // deno-lint-ignore no-explicit-any
  query<R extends QueryResultRow = any>(
    query: string | QueryConfig,
    values: unknown[],
    callback: (err: Error | undefined, result: QueryResult<R>) => void,
  ): void;
  query(query: unknown, values?: unknown, callback?: unknown): unknown {
    if (typeof (query as Submittable)?.submit === "function") return this.#stream(query as Submittable);
    if (typeof values === "function") [callback, values] = [values, undefined];
    const result = this.#once(query as string | QueryConfig, values as unknown[] | undefined);
    if (typeof callback !== "function") return result;
    result.then((rows) => callback(undefined, rows), (error) => callback(error));
  }

  async #once(query: string | QueryConfig, values: unknown[] | undefined): Promise<QueryResult> {
    await using lease = await this.acquire();
    return await lease.query(query, values);
  }

  #stream<T extends Submittable>(stream: T): T {
    const emitter = stream as unknown as EventEmitter;
    this.acquire().then((lease) => {
      const done = (error?: Error) => lease.state === "active" && lease.release(error);
      emitter.once("end", () => done()).once("close", () => done()).once("error", (error: Error) => done(error));
      lease.asPoolClient().query(stream);
    }, (error) => emitter.emit("error", error));
    return stream;
  }
}
