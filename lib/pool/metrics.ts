/**
 * The pool's OpenTelemetry metrics, under the semantic-convention names for
 * database client connection pools, plus a leaked count.
 *
 * Counts are observed from `stats()` when a reader collects, so they cost the
 * request path nothing; only wait and use times are recorded per lease.
 *
 * @module
 */
import type { Attributes, Counter, Histogram, Meter, Observable, ObservableUpDownCounter } from "@opentelemetry/api";
import type { PoolStats } from "./types.ts";

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
   */
  constructor(meter: Meter, poolName: string, stats: () => PoolStats) {
    this.#meter = meter;
    const pool = { "db.client.connection.pool.name": poolName };
    const idle = { ...pool, "db.client.connection.state": "idle" };
    const used = { ...pool, "db.client.connection.state": "used" };
    this.#attributes = pool;
    this.#waitTime = meter.createHistogram("db.client.connection.wait_time", {
      unit: "s",
      description: "Time it took to obtain an open connection from the pool.",
    });
    this.#useTime = meter.createHistogram("db.client.connection.use_time", {
      unit: "s",
      description: "Time between borrowing a connection and returning it to the pool.",
    });
    this.#timeouts = meter.createCounter("db.client.connection.timeouts", {
      unit: "{timeout}",
      description: "Connection acquires that timed out because the pool was exhausted.",
    });
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
    const leaked: ObservableUpDownCounter = meter.createObservableUpDownCounter("leaklab.db.client.connection.leaked", {
      unit: "{connection}",
      description: "Connections detected as leaked and not returned since.",
    });
    this.#observables = [count, max, pending, leaked];
    this.#observe = (result) => {
      const now = stats();
      result.observe(count, now.idle, idle);
      result.observe(count, now.active, used);
      result.observe(max, now.max, pool);
      result.observe(pending, now.waiting, pool);
      result.observe(leaked, now.leaked, pool);
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
