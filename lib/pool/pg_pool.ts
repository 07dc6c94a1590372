/**
 * What TracedPool needs from node-postgres' `Pool` beyond its API: a pool
 * whose leased connections cannot crash the process, and an end that is
 * complete. pg-pool's `end()` never serves its queued `connect()` calls
 * again but leaves each waiting its whole timeout, and it resolves once it
 * has let go of its clients, before their sockets have closed: a server
 * stopped right after would cut them off mid-goodbye.
 *
 * @example
 * ```ts ignore
 * import { failQueuedConnects, openPgPool, whenEveryClientRemoved } from "./pg_pool.ts";
 * const pool = openPgPool(resolvePoolOptions({ connectionString }), (client, error) => {});
 * failQueuedConnects(pool, new Error("pool ended"));
 * const closed = whenEveryClientRemoved(pool);
 * await Promise.all([pool.end(), closed]);
 * ```
 *
 * @module
 */
// @ts-types="@types/pg"
import pg from "pg";
import type { ResolvedPoolOptions } from "./options.ts";

/**
 * A pg `Pool` for `options`. `onLeasedError` hears of an error on a
 * connection that is out (pg-pool listens only while one is idle, and an
 * unheard error event would crash the process); idle ones that fail are
 * removed by pg-pool and told to `options.log`.
 */
export function openPgPool(
  options: ResolvedPoolOptions,
  onLeasedError: (client: pg.PoolClient, error: Error) => void,
): pg.Pool {
  const pool = new pg.Pool(options.pgConfig);
  pool.on("connect", (client: pg.PoolClient) => client.on("error", (error: Error) => onLeasedError(client, error)));
  pool.on(
    "error",
    (error: Error) => options.log(`Pool "${options.name}": idle connection failed, removed: ${error.message}`),
  );
  return pool;
}

/** Fails every `connect()` waiting in `pool`'s queue with `error`, at once. */
export function failQueuedConnects(pool: pg.Pool, error: Error): void {
  const queued = (pool as unknown as { _pendingQueue: { callback(error: Error): void }[] })._pendingQueue;
  for (const waiter of queued.splice(0)) waiter.callback(error);
}

/**
 * Resolves once every client `pool` has open now is really closed: each
 * says "remove" after its socket has closed. Call it before closing them.
 */
export function whenEveryClientRemoved(pool: pg.Pool): Promise<void> {
  const open = pool.totalCount;
  let removed = 0;
  return new Promise<void>((resolve) => {
    if (open === 0) resolve();
    pool.on("remove", () => ++removed >= open && resolve());
  });
}
