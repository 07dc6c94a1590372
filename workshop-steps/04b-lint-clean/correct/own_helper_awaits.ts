// Correct: A withLease() helper of its own takes the connection, awaits the callback inside try and releases in finally, as the README allows; the transaction rolls back in the callback before the error is rethrown.
/**
 * Step 4b: the queries behind the sensor dashboard, each giving its
 * connection back on every path.
 *
 * @module
 */
import { type FaultSchedule, readSensors } from "leak-lab/demo/fault_schedule.ts";
import type { Lease, TracedPool } from "leak-lab/pool.ts";

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

/** Runs `work` on one connection and gives it back once `work` has settled. */
async function withLease<T>(pool: TracedPool, work: (conn: Lease) => Promise<T>): Promise<T> {
  const lease = await pool.acquire();
  try {
    return await work(lease);
  } finally {
    lease.release();
  }
}

/** The readings recorded at or after `since`, oldest first. */
export function readingsSince(pool: TracedPool, since: string): Promise<unknown[]> {
  return withLease(pool, async (conn) => (await conn.query(SINCE_QUERY, [since])).rows);
}

/** The newest reading. Fails with SQLSTATE 57014 when `faults` says so. */
export function newestReading(pool: TracedPool, faults: FaultSchedule): Promise<unknown> {
  return withLease(pool, async (conn) => (await readSensors(conn, faults))[0]);
}

/** The latest 10 readings, newest first. */
export function latestReadings(pool: TracedPool, faults: FaultSchedule): Promise<unknown[]> {
  return withLease(pool, (conn) => readSensors(conn, faults));
}

/** The sensor ids in a query result. */
const sensorIds = (result: { rows: Record<string, unknown>[] }) => result.rows.map((row) => String(row.sensor_id));

/** The ids of the sensors that ever read above `threshold`, sorted. */
export function hotSensors(pool: TracedPool, threshold: number): Promise<string[]> {
  return withLease(pool, async (conn) => sensorIds(await conn.query(HOT_QUERY, [threshold])));
}

/** The latest 10 readings and the row count, from one snapshot so the two agree. */
export function snapshotReport(pool: TracedPool, faults: FaultSchedule): Promise<SnapshotReport> {
  return withLease(pool, async (conn) => {
    try {
      await conn.query(SNAPSHOT);
      const readings = await readSensors(conn, faults);
      const { rows } = await conn.query<{ total: number }>(COUNT_QUERY);
      await conn.query("COMMIT");
      return { readings, total: rows[0].total };
    } catch (error) {
      await conn.query("ROLLBACK");
      throw error;
    }
  });
}
