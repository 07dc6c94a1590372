/**
 * Closing the connections a pool takes back from whoever holds them
 * (`pool.reset()`, `pool.end()`). Each running statement is cancelled first
 * and its socket closed after, while the backend is still surely ours: a
 * pid signalled after its backend exited could already name another one.
 *
 * @example
 * ```ts ignore
 * import { Reclaimer } from "./reclaim.ts";
 * const reclaimer = new Reclaimer({ pgConfig: { connectionString }, name: "demo", acquireTimeoutMs: 2000, log: console.warn });
 * reclaimer.reclaim([[client, lease.pid]]);
 * console.log(reclaimer.closing); // 1 until its statement is cancelled and its socket closed
 * await reclaimer.settled();
 * ```
 *
 * @module
 */
import type { Lease } from "./lease.ts";
import type { ResolvedPoolOptions } from "./options.ts";
import { cancelStatements, type CancelTarget } from "./statement_cancel.ts";

/** Cancels, then closes, reclaimed connections; counts those not closed yet. */
export class Reclaimer {
  readonly #target: CancelTarget;
  readonly #pending = new Set<Promise<void>>();
  #closing = 0;

  /** Cancels over a connection of its own to the pool's server, waiting for it as long as an acquire would. */
  constructor(pool: Pick<ResolvedPoolOptions, "pgConfig" | "name" | "acquireTimeoutMs" | "log">) {
    this.#target = {
      config: pool.pgConfig,
      applicationName: `leak-lab:${pool.name}:reclaim`,
      timeoutMs: pool.acquireTimeoutMs,
      log: (message) => pool.log(`Pool "${pool.name}": ${message}`),
    };
  }

  /** Reclaimed connections still open (pg-pool still counts them in `totalCount`). */
  get closing(): number {
    return this.#closing;
  }

  /** Cancels what each connection's backend runs, then destroys the connection; never rejects. */
  reclaim(connections: Lease[]): void {
    if (connections.length === 0) return;
    this.#closing += connections.length;
    const done = cancelStatements(connections.map((lease) => lease.pid), this.#target).then(() => {
      for (const lease of connections) lease.releaseToPg(true); // destroy: whoever leaked it may still hold it
      this.#closing -= connections.length;
    });
    this.#pending.add(done);
    done.finally(() => this.#pending.delete(done));
  }

  /** Resolves once every connection reclaimed so far is closed. */
  async settled(): Promise<void> {
    await Promise.all(this.#pending);
  }
}
