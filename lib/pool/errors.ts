/**
 * The pool's named errors. Each message says what the caller did and what
 * to do, and carries the pool's numbers like HikariCP's timeout does.
 *
 * @module
 */
import type { Holder, PoolStats } from "./types.ts";

/** `acquire()` waited its whole timeout because every connection was out. */
export class PoolExhaustedError extends Error {
  /**
   * Says how long the caller waited, the pool's counts, and who holds the connections.
   *
   * @param poolName the pool's name
   * @param waitedMs how long the caller waited
   * @param stats the pool's counters when the wait ended
   * @param holders who holds the connections: every leaked lease first, then the oldest others (capped)
   * @param options the error's `cause`, if any
   */
  constructor(
    readonly poolName: string,
    readonly waitedMs: number,
    readonly stats: PoolStats,
    readonly holders: Holder[],
    options?: ErrorOptions,
  ) {
    const { total, active, idle, waiting, leaked } = stats;
    const held = holders.map((h) => {
      const where = h.siteCaptured ? `from ${h.site}` : [
        ...(h.scope ? [`in scope "${h.scope}"`] : []),
        ...(h.traceId ? [`trace ${h.traceId}`] : []),
        "site not captured",
      ]
        .join(", ");
      return `#${h.leaseId} (pid ${h.pid}) for ${(h.ageMs / 1000).toFixed(1)}s ${where}${h.leaked ? " (leaked)" : ""}`;
    });
    const more = active > holders.length ? `; and ${active - holders.length} more` : "";
    super(
      `Connection pool exhausted: pool "${poolName}" had no connection available after waiting ` +
        `${Math.round(waitedMs)}ms (total=${total}, active=${active}, idle=${idle}, waiting=${waiting}, ` +
        `leaked=${leaked}). Holders, leaked first: ${held.join("; ") || "none"}${more}. ` +
        `Return every connection on every path: release it in a finally block or use \`await using\`.`,
      options,
    );
    this.name = "PoolExhaustedError";
  }
}

/** A lease was used or released after it stopped holding a connection. */
export class LeaseReleasedError extends Error {
  /**
   * A lease was used after its release.
   *
   * @param message what was called, on which lease, and what to do instead
   * @param options the error's `cause`, if any
   */
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = "LeaseReleasedError";
  }
}

/** `acquire()` was called on a pool after `end()`. */
export class PoolEndedError extends Error {
  /**
   * Names the ended pool.
   *
   * @param poolName the pool's name
   */
  constructor(readonly poolName: string) {
    super(`Cannot acquire from pool "${poolName}": it has been ended. Create a new TracedPool.`);
    this.name = "PoolEndedError";
  }
}
