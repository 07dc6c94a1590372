/**
 * The original demo's query "sometimes throws". Here the failure is real —
 * Postgres cancels the query at its statement timeout (SQLSTATE 57014) — and
 * it comes on a schedule you can reproduce: every Nth query, or a seeded rate.
 *
 * Every deliberate fault in Leak Lab is in this file, marked `// simulate …`.
 *
 * @module
 */
import { type Env, envFraction, envInteger } from "../util/env.ts";

/** Options for {@linkcode FaultSchedule}. */
export interface FaultOptions {
  /** Every Nth query fails: 1 = all, 0 = none. Ignored when `failRate` is set. @default 2 */
  failEvery?: number;
  /** Fail this fraction of queries (0–1), drawn from a generator seeded with `seed`. @default undefined */
  failRate?: number;
  /** Seed for `failRate`, so a run can be repeated exactly. @default 42 */
  seed?: number;
}

/** The query every handler runs. */
export const SENSOR_QUERY = "SELECT * FROM sensors ORDER BY recorded_at DESC LIMIT 10";

// simulate a slow query: it sleeps 50ms under a 5ms statement timeout, so
// Postgres cancels it with "canceling statement due to statement timeout".
// SET LOCAL lasts only for this query string's implicit transaction.
/** The same query when the schedule says it fails. */
export const FAILING_SENSOR_QUERY =
  "SET LOCAL statement_timeout = '5ms'; SELECT pg_sleep(0.05), * FROM sensors ORDER BY recorded_at DESC LIMIT 10";

/** Decides, query by query, which ones fail. */
export class FaultSchedule {
  readonly failEvery: number;
  readonly failRate: number | undefined;
  readonly seed: number;
  #count = 0;
  #random: () => number;

  /** @throws {RangeError} naming the bad option and its value */
  constructor(options: FaultOptions = {}) {
    this.failEvery = options.failEvery ?? 2;
    if (!Number.isInteger(this.failEvery) || this.failEvery < 0) {
      throw new RangeError(
        `Cannot schedule faults as 'failEvery' must be a non-negative integer (1 = every query, 0 = none): current value is ${this.failEvery}`,
      );
    }
    this.failRate = options.failRate;
    if (this.failRate !== undefined && !(this.failRate >= 0 && this.failRate <= 1)) {
      throw new RangeError(
        `Cannot schedule faults as 'failRate' must be between 0 and 1: current value is ${this.failRate}`,
      );
    }
    this.seed = options.seed ?? 42;
    this.#random = mulberry32(this.seed);
  }

  /**
   * Reads FAIL_EVERY, FAIL_RATE and FAIL_SEED: the only parser of these
   * variables (the demo service and `deno task scenario` both use it).
   * @throws {ConfigError} naming the variable, its value and its limits
   */
  static fromEnv(env: Env = Deno.env): FaultSchedule {
    return new FaultSchedule({
      failEvery: envInteger(env, "FAIL_EVERY", {
        fallback: 2,
        min: 0,
        max: 1_000_000,
        hint: "1 = every query fails, 0 = none",
      }),
      failRate: envFraction(env, "FAIL_RATE", "0.3 = 30% of queries fail", "use FAIL_EVERY"),
      seed: envInteger(env, "FAIL_SEED", { fallback: 42, min: 0, max: 2 ** 32 - 1, hint: "any seed" }),
    });
  }

  /** One line for logs and the demo page. */
  get description(): string {
    if (this.failRate !== undefined) {
      return `${Math.round(this.failRate * 100)}% of queries fail (seed ${this.seed})`;
    }
    if (this.failEvery === 0) return "no query fails";
    if (this.failEvery === 1) return "every query fails";
    return `every ${ordinal(this.failEvery)} query fails`;
  }

  /** Whether the next query fails; advances the schedule. */
  next(): boolean {
    this.#count++;
    if (this.failRate !== undefined) return this.#random() < this.failRate;
    return this.failEvery > 0 && this.#count % this.failEvery === 0;
  }

  /** Starts the schedule over, as if new. */
  reset(): void {
    this.#count = 0;
    this.#random = mulberry32(this.seed);
  }
}

/** Anything that runs a query: a lease, a pg client, a pool. */
export interface Queryable {
  query(text: string): Promise<{ rows: unknown[] } | { rows: unknown[] }[]>;
}

/**
 * Reads the latest sensor readings, failing when the schedule says so.
 *
 * @example
 * ```ts ignore
 * import { FaultSchedule, readSensors } from "./fault_schedule.ts";
 * const faults = new FaultSchedule({ failEvery: 3 });
 * await using conn = await pool.acquire();
 * const rows = await readSensors(conn, faults); // every 3rd call throws (57014)
 * ```
 */
export async function readSensors(db: Queryable, faults: FaultSchedule): Promise<unknown[]> {
  const result = await db.query(faults.next() ? FAILING_SENSOR_QUERY : SENSOR_QUERY);
  return Array.isArray(result) ? result[result.length - 1].rows : result.rows;
}

function ordinal(n: number): string {
  const suffix = n % 100 >= 11 && n % 100 <= 13
    ? "th"
    : ({ 1: "st", 2: "nd", 3: "rd" } as Record<number, string>)[n % 10] ?? "th";
  return `${n}${suffix}`;
}

/** A small seeded generator (mulberry32): the same seed gives the same faults. */
function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
