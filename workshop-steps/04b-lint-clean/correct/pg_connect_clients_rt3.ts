// Correct: Takes pg clients with `pool.connect()` (traced and leak-checked like acquire()) and releases each in the `finally` of a try that starts right after, rolling back before the original error is rethrown.
/**
 * Step 4b: the queries behind the sensor dashboard, each giving its
 * connection back on every path.
 *
 * @module
 */
import { type FaultSchedule, readSensors } from "leak-lab/demo/fault_schedule.ts";
import type { TracedPool } from "leak-lab/pool.ts";

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

/** The readings recorded at or after `since`, oldest first. */
export async function readingsSince(pool: TracedPool, since: string): Promise<unknown[]> {
  const client = await pool.connect();
  try {
    const result = await client.query(SINCE_QUERY, [since]);
    return result.rows;
  } finally {
    client.release();
  }
}

/** The newest reading. Fails with SQLSTATE 57014 when `faults` says so. */
export async function newestReading(pool: TracedPool, faults: FaultSchedule): Promise<unknown> {
  const client = await pool.connect();
  try {
    const [newest] = await readSensors(client, faults);
    return newest;
  } finally {
    client.release();
  }
}

/** The latest 10 readings, newest first. */
export async function latestReadings(pool: TracedPool, faults: FaultSchedule): Promise<unknown[]> {
  const client = await pool.connect();
  try {
    return await readSensors(client, faults);
  } finally {
    client.release();
  }
}

/** The sensor ids in a query result. */
const sensorIds = (result: { rows: Record<string, unknown>[] }) => result.rows.map((row) => String(row.sensor_id));

/** The ids of the sensors that ever read above `threshold`, sorted. */
export async function hotSensors(pool: TracedPool, threshold: number): Promise<string[]> {
  const client = await pool.connect();
  try {
    return sensorIds(await client.query(HOT_QUERY, [threshold]));
  } finally {
    client.release();
  }
}

/** The latest 10 readings and the row count, from one snapshot so the two agree. */
export async function snapshotReport(pool: TracedPool, faults: FaultSchedule): Promise<SnapshotReport> {
  const client = await pool.connect();
  try {
    await client.query(SNAPSHOT);
    const readings = await readSensors(client, faults);
    const { rows } = await client.query<{ total: number }>(COUNT_QUERY);
    await client.query("COMMIT");
    return { readings, total: rows[0].total };
  } catch (error) {
    await client.query("ROLLBACK");
    throw error;
  } finally {
    client.release();
  }
}
