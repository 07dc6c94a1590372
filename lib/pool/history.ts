/**
 * The pool's recent counters, one sample per lease state change, for plots
 * and timelines. Samples land in fixed typed arrays (a ring): recording one
 * allocates nothing, so it can stay on every acquire and release, and the
 * sample objects are built only when someone asks for `history()`.
 *
 * @example
 * ```ts
 * import { PoolHistory } from "./history.ts";
 * const history = new PoolHistory(2, 5); // keep 2 samples of a pool of 5
 * history.record(performance.now(), "acquire", 1, 1, 0, 1, 0, 0);
 * console.log(history.samples()[0].available); // 4
 * ```
 *
 * @module
 */
import type { PoolChange, PoolSample } from "./types.ts";

const CHANGES: readonly PoolChange[] = ["wait", "acquire", "release", "leak", "reclaim", "lost", "timeout"];
const CHANGE_CODE = new Map(CHANGES.map((change, code) => [change, code]));
const NO_LEASE = 0;

/** A ring of pool samples with a fixed capacity; the oldest fall out. */
export class PoolHistory {
  readonly #at: Float64Array;
  readonly #change: Uint8Array;
  readonly #lease: Uint32Array;
  readonly #counts: Uint32Array; // total, idle, active, leaked, waiting per sample
  #next = 0;
  #size = 0;

  /**
   * @param capacity how many samples to keep; a positive integer
   * @param max the pool's `max`, for each sample's `available`
   */
  constructor(readonly capacity: number, readonly max: number) {
    this.#at = new Float64Array(capacity);
    this.#change = new Uint8Array(capacity);
    this.#lease = new Uint32Array(capacity);
    this.#counts = new Uint32Array(capacity * 5);
  }

  /**
   * Records the counters right after `change`. Plain numbers, not a stats
   * object: this runs twice per lease and must not allocate.
   * @param now `performance.now()` when it happened
   * @param leaseId the lease that changed, or 0 for none
   */
  record(
    now: number,
    change: PoolChange,
    leaseId: number,
    total: number,
    idle: number,
    active: number,
    leaked: number,
    waiting: number,
  ): void {
    const i = this.#next;
    this.#at[i] = now;
    this.#change[i] = CHANGE_CODE.get(change)!;
    this.#lease[i] = leaseId;
    const c = i * 5;
    this.#counts[c] = total;
    this.#counts[c + 1] = idle;
    this.#counts[c + 2] = active;
    this.#counts[c + 3] = leaked;
    this.#counts[c + 4] = waiting;
    this.#next = (i + 1) % this.capacity;
    if (this.#size < this.capacity) this.#size++;
  }

  /** The samples held now, oldest first, with wall-clock times. */
  samples(): PoolSample[] {
    const out: PoolSample[] = new Array(this.#size);
    const start = (this.#next - this.#size + this.capacity) % this.capacity;
    for (let n = 0; n < this.#size; n++) {
      const i = (start + n) % this.capacity;
      const c = i * 5;
      const active = this.#counts[c + 2];
      out[n] = {
        at: performance.timeOrigin + this.#at[i],
        change: CHANGES[this.#change[i]],
        ...(this.#lease[i] === NO_LEASE ? {} : { leaseId: this.#lease[i] }),
        max: this.max,
        total: this.#counts[c],
        idle: this.#counts[c + 1],
        active,
        available: this.max - active,
        leaked: this.#counts[c + 3],
        waiting: this.#counts[c + 4],
      };
    }
    return out;
  }
}
