/**
 * The pool's OpenTelemetry metrics, under the semantic-convention names for
 * database client connection pools, plus Leak Lab's own leak gauges.
 *
 * Counts are observed from `stats()` when a reader collects (a scrape), so
 * they cost the request path nothing; only wait and use times are recorded
 * per lease.
 *
 * | metric                                          | kind                  | unit |
 * |-------------------------------------------------|-----------------------|------|
 * | `db.client.connection.count` (state idle/used)  | observed up-down sum  |      |
 * | `db.client.connection.max`                      | observed up-down sum  |      |
 * | `db.client.connection.pending_requests`         | observed up-down sum  |      |
 * | `db.client.connection.timeouts`                 | counter               |      |
 * | `db.client.connection.wait_time`                | histogram             | s    |
 * | `db.client.connection.use_time`                 | histogram             | s    |
 * | `leaklab.db.client.connection.leaked`           | observed up-down sum  |      |
 * | `leaklab.db.client.connection.oldest_lease_age` | observed gauge        | s    |
 * | `leaklab.db.client.connection.leak_threshold`   | observed gauge        | s    |
 *
 * @module
 */
import type { Attributes, Counter, Histogram, Meter, Observable } from "@opentelemetry/api";
import { ALERT_THRESHOLDS } from "./alert_thresholds.ts";
import type { PoolStats } from "./types.ts";

/**
 * Bucket upper bounds, in seconds, of the wait-time and use-time histograms.
 *
 * The SDK's default buckets (0 … 10000) are made for milliseconds; these span
 * a fast acquire (1 ms) to a connection held past the default 30 s leak
 * threshold, and always include `ALERT_THRESHOLDS.acquireWaitSeconds`, so the
 * "p95 wait over 1 s" alert compares against a bucket edge, not an
 * interpolation inside a bucket.
 */
export const POOL_TIME_BUCKETS_SECONDS: readonly number[] = Object.freeze(
  [
    ...new Set([0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60].concat(
      ALERT_THRESHOLDS.acquireWaitSeconds,
    )),
  ].sort((a, b) => a - b),
);

/** What the held-too-long gauges read from their pool, at collect time only. */
export interface HeldLeases {
  /** Milliseconds the longest-held lease out now has been held; 0 when none is out. */
  oldestAgeMs(): number;
  /** The pool's `leakThresholdMs` (0: threshold detection off). */
  readonly thresholdMs: number;
}

export class PoolMetrics {
  readonly #waitTime: Histogram;
  readonly #useTime: Histogram;
  readonly #timeouts: Counter;
  readonly #attributes: Attributes;
  readonly #observables: Observable[];
  readonly #observe: Parameters<Meter["addBatchObservableCallback"]>[0];
  readonly #meter: Meter;

  /**
   * @param meter where the instruments are created
   * @param poolName becomes `db.client.connection.pool.name`
   * @param stats reads the pool's counters
   * @param held the oldest lease's age and the leak threshold, for the held-too-long alert
   */
  constructor(meter: Meter, poolName: string, stats: () => PoolStats, held: HeldLeases) {
    this.#meter = meter;
    const pool = { "db.client.connection.pool.name": poolName };
    const idle = { ...pool, "db.client.connection.state": "idle" };
    const used = { ...pool, "db.client.connection.state": "used" };
    this.#attributes = pool;
    const advice = { explicitBucketBoundaries: [...POOL_TIME_BUCKETS_SECONDS] };
    this.#waitTime = meter.createHistogram("db.client.connection.wait_time", {
      unit: "s",
      description: "Time it took to obtain an open connection from the pool.",
      advice,
    });
    this.#useTime = meter.createHistogram("db.client.connection.use_time", {
      unit: "s",
      description: "Time between borrowing a connection and returning it to the pool.",
      advice,
    });
    this.#timeouts = meter.createCounter("db.client.connection.timeouts", {
      unit: "{timeout}",
      description: "Connection acquires that timed out because the pool was exhausted.",
    });
    // Exported from the start at 0: Prometheus' increase() cannot see the first timeout of a
    // series that appears with the value 1.
    this.#timeouts.add(0, pool);
    const count = meter.createObservableUpDownCounter("db.client.connection.count", {
      unit: "{connection}",
      description: "Connections currently in the state described by db.client.connection.state.",
    });
    const max = meter.createObservableUpDownCounter("db.client.connection.max", {
      unit: "{connection}",
      description: "The maximum number of open connections allowed.",
    });
    const pending = meter.createObservableUpDownCounter("db.client.connection.pending_requests", {
      unit: "{request}",
      description: "Requests waiting for an open connection.",
    });
    const leaked = meter.createObservableUpDownCounter("leaklab.db.client.connection.leaked", {
      unit: "{connection}",
      description: "Connections detected as leaked and not returned since.",
    });
    const oldest = meter.createObservableGauge("leaklab.db.client.connection.oldest_lease_age", {
      unit: "s",
      description: "How long the longest-held connection checked out now has been out (0 when none is).",
    });
    const threshold = meter.createObservableGauge("leaklab.db.client.connection.leak_threshold", {
      unit: "s",
      description: "The pool's leak threshold: a connection held longer is reported (0: off).",
    });
    this.#observables = [count, max, pending, leaked, oldest, threshold];
    this.#observe = (result) => {
      const now = stats();
      result.observe(count, now.idle, idle);
      result.observe(count, now.active, used);
      result.observe(max, now.max, pool);
      result.observe(pending, now.waiting, pool);
      result.observe(leaked, now.leaked, pool);
      result.observe(oldest, held.oldestAgeMs() / 1000, pool);
      result.observe(threshold, held.thresholdMs / 1000, pool);
    };
    meter.addBatchObservableCallback(this.#observe, this.#observables);
  }

  /** Records how long an acquire waited. */
  waited(ms: number): void {
    this.#waitTime.record(ms / 1000, this.#attributes);
  }

  /** Records how long a lease was held. */
  used(ms: number): void {
    this.#useTime.record(ms / 1000, this.#attributes);
  }

  /** Counts an acquire that timed out. */
  timedOut(): void {
    this.#timeouts.add(1, this.#attributes);
  }

  /** Stops observing the pool (it is ending). */
  close(): void {
    this.#meter.removeBatchObservableCallback(this.#observe, this.#observables);
  }
}
