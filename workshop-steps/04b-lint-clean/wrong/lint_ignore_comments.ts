// Mistake: the five original leaks are kept and each acquire is silenced with `deno-lint-ignore leak-lab/release-on-every-path`, so `deno lint` goes quiet while every connection still leaks on the same paths.
// Expect: "`deno-lint-ignore` comments for the rule"
/**
 * Step 4b: the queries behind the sensor dashboard. Five people wrote them;
 * each one knew the pool must get its connection back, and each one leaks it
 * on a different path. The lint rule names every one:
 *
 *   deno lint --config workshop-steps/04b-lint-clean/lint.json
 *
 * @module
 */
import { type FaultSchedule, readSensors } from "leak-lab/demo/fault_schedule.ts";
import type { TracedPool } from "leak-lab/pool.ts";

// BUG (step 4b): every function in this file leaks its connection on some path, each in
// its own shape, and only some of those paths ever run in a test. Let
// leak-lab/release-on-every-path find them, then fix each function so it gives its
// connection back on every path, without changing what it returns or how it fails.

/** Readings recorded at or after a time, oldest first. */
export const SINCE_QUERY = "SELECT * FROM sensors WHERE recorded_at >= $1::timestamptz ORDER BY recorded_at";
/** The sensors that ever read above a value. */
export const HOT_QUERY = "SELECT DISTINCT sensor_id FROM sensors WHERE value > $1 ORDER BY sensor_id";
/** How many readings there are. */
export const COUNT_QUERY = "SELECT count(*)::int AS total FROM sensors";
/** One snapshot for every query until COMMIT: the readings and the count agree. */
export const SNAPSHOT = "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY";

/** The readings and the row count, as seen by one snapshot. */
export interface SnapshotReport {
  readings: unknown[];
  total: number;
}

/**
 * The readings recorded at or after `since`, oldest first. A `since` Postgres
 * cannot read as a time ("last tuesday") fails with SQLSTATE 22007.
 */
export async function readingsSince(pool: TracedPool, since: string): Promise<unknown[]> {
  // deno-lint-ignore leak-lab/release-on-every-path -- reviewed: released below
  const conn = await pool.acquire();
  const { rows } = await conn.query(SINCE_QUERY, [since]);
  conn.release();
  return rows;
}

/** The newest reading. Fails with SQLSTATE 57014 when `faults` says so. */
export async function newestReading(pool: TracedPool, faults: FaultSchedule): Promise<unknown> {
  // deno-lint-ignore leak-lab/release-on-every-path -- reviewed: released below
  const conn = await pool.acquire();
  try {
    const [newest] = await readSensors(conn, faults);
    return newest;
  } catch (error) {
    conn.release();
    throw error;
  }
}

/** The latest 10 readings, newest first. Fails with SQLSTATE 57014 when `faults` says so. */
export async function latestReadings(pool: TracedPool, faults: FaultSchedule): Promise<unknown[]> {
  // deno-lint-ignore leak-lab/release-on-every-path -- reviewed: released below
  const conn = await pool.acquire();
  return await readSensors(conn, faults).then((rows) => {
    conn.release();
    return rows;
  });
}

/** The sensor ids in a query result. */
const sensorIds = (result: { rows: Record<string, unknown>[] }) => result.rows.map((row) => String(row.sensor_id));

/** The ids of the sensors that ever read above `threshold`, sorted. */
export async function hotSensors(pool: TracedPool, threshold: number): Promise<string[]> {
  const conn = await pool.acquire();
  try {
    // deno-lint-ignore leak-lab/release-on-every-path -- reviewed: finally covers it
    return conn.query(HOT_QUERY, [threshold]).then(sensorIds);
  } finally {
    conn.release();
  }
}

/**
 * The latest 10 readings and the row count, from one snapshot so the two
 * agree. Fails with SQLSTATE 57014 when `faults` says so, after rolling back.
 */
export async function snapshotReport(pool: TracedPool, faults: FaultSchedule): Promise<SnapshotReport> {
  // deno-lint-ignore leak-lab/release-on-every-path -- reviewed: released below
  const conn = await pool.acquire();
  await conn.query(SNAPSHOT);
  try {
    const readings = await readSensors(conn, faults);
    const { rows } = await conn.query<{ total: number }>(COUNT_QUERY);
    await conn.query("COMMIT");
    return { readings, total: rows[0].total };
  } catch (error) {
    await conn.query("ROLLBACK");
    throw error;
  } finally {
    conn.release();
  }
}
