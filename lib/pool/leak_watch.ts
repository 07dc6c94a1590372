/**
 * Threshold leak detection, like HikariCP's `leakDetectionThreshold`: a lease
 * held longer than the threshold is reported once, unless its scope already
 * reported it as leaked.
 *
 * One timer serves every lease: it is armed for the oldest lease and re-armed
 * after each sweep, so an acquire costs one comparison, not a timer.
 *
 * @module
 */
import type { Lease } from "./lease.ts";

export class LeakWatch {
  #timer: ReturnType<typeof setTimeout> | undefined;

  /**
   * @param thresholdMs how long a lease may be held; 0 turns the watch off
   * @param leases the leases out now, oldest first
   * @param report called once for each lease past the threshold
   */
  constructor(
    readonly thresholdMs: number,
    readonly leases: () => Iterable<Lease>,
    readonly report: (lease: Lease) => void,
  ) {}

  /** Makes sure the watch will look at `lease` when its threshold passes. */
  arm(lease: Lease): void {
    if (this.thresholdMs === 0 || this.#timer !== undefined) return;
    this.#schedule(lease.acquiredAt + this.thresholdMs - performance.now());
  }

  /** Cancels the pending sweep. */
  stop(): void {
    clearTimeout(this.#timer);
    this.#timer = undefined;
  }

  #schedule(delayMs: number): void {
    this.#timer = setTimeout(() => this.#sweep(), Math.max(0, Math.ceil(delayMs)));
    // A forgotten pool must not keep a script alive just to watch for leaks.
    Deno.unrefTimer(this.#timer as unknown as number);
  }

  #sweep(): void {
    this.#timer = undefined;
    const now = performance.now();
    let next = Infinity;
    for (const lease of this.leases()) {
      if (lease.reported) continue;
      const due = lease.acquiredAt + this.thresholdMs;
      if (due <= now) {
        lease.reported = true;
        this.report(lease);
      } else if (due < next) {
        next = due;
      }
    }
    if (next !== Infinity) this.#schedule(next - now);
  }
}
