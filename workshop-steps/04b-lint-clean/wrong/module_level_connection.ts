// Mistake: All five functions share one module-level `conn` variable (which the rule treats as handed on and does not follow), so calls in flight at once overwrite it: a call queries and releases another call's connection, releasing one twice (LeaseReleasedError) and never its own.
// Expect: "which another call had taken"
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

/** The connection the current query runs on. */
let conn: Lease;

/** The readings recorded at or after `since`, oldest first. */
export async function readingsSince(pool: TracedPool, since: string): Promise<unknown[]> {
  conn = await pool.acquire();
  try {
    const { rows } = await conn.query(SINCE_QUERY, [since]);
    return rows;
  } finally {
    conn.release();
  }
}

/** The newest reading. Fails with SQLSTATE 57014 when `faults` says so. */
export async function newestReading(pool: TracedPool, faults: FaultSchedule): Promise<unknown> {
  conn = await pool.acquire();
  try {
    const [newest] = await readSensors(conn, faults);
    return newest;
  } finally {
    conn.release();
  }
}

/** The latest 10 readings, newest first. */
export async function latestReadings(pool: TracedPool, faults: FaultSchedule): Promise<unknown[]> {
  conn = await pool.acquire();
  try {
    return await readSensors(conn, faults);
  } finally {
    conn.release();
  }
}

/** The sensor ids in a query result. */
const sensorIds = (result: { rows: Record<string, unknown>[] }) => result.rows.map((row) => String(row.sensor_id));

/** The ids of the sensors that ever read above `threshold`, sorted. */
export async function hotSensors(pool: TracedPool, threshold: number): Promise<string[]> {
  conn = await pool.acquire();
  try {
    return sensorIds(await conn.query(HOT_QUERY, [threshold]));
  } finally {
    conn.release();
  }
}

/** The latest 10 readings and the row count, from one snapshot so the two agree. */
export async function snapshotReport(pool: TracedPool, faults: FaultSchedule): Promise<SnapshotReport> {
  conn = await pool.acquire();
  try {
    await conn.query(SNAPSHOT);
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
