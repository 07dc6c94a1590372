// Correct: The single-statement reads go through `pool.query()`, which takes one connection, awaits the query and releases it (no acquire in this file to lint), and snapshotReport() keeps the original error even if ROLLBACK fails by destroying that connection with release(error).
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
  const { rows } = await pool.query(SINCE_QUERY, [since]);
  return rows;
}

/** The newest reading. Fails with SQLSTATE 57014 when `faults` says so. */
export async function newestReading(pool: TracedPool, faults: FaultSchedule): Promise<unknown> {
  const [newest] = await readSensors(pool, faults);
  return newest;
}

/** The latest 10 readings, newest first. */
export function latestReadings(pool: TracedPool, faults: FaultSchedule): Promise<unknown[]> {
  return readSensors(pool, faults);
}

/** The sensor ids in a query result. */
const sensorIds = (result: { rows: Record<string, unknown>[] }) => result.rows.map((row) => String(row.sensor_id));

/** The ids of the sensors that ever read above `threshold`, sorted. */
export async function hotSensors(pool: TracedPool, threshold: number): Promise<string[]> {
  return sensorIds(await pool.query(HOT_QUERY, [threshold]));
}

/** The latest 10 readings and the row count, from one snapshot so the two agree. */
export async function snapshotReport(pool: TracedPool, faults: FaultSchedule): Promise<SnapshotReport> {
  const conn = await pool.acquire();
  let broken: Error | undefined;
  try {
    await conn.query(SNAPSHOT);
    const readings = await readSensors(conn, faults);
    const { rows } = await conn.query<{ total: number }>(COUNT_QUERY);
    await conn.query("COMMIT");
    return { readings, total: rows[0].total };
  } catch (error) {
    try {
      await conn.query("ROLLBACK");
    } catch (rollbackFailed) {
      broken = rollbackFailed instanceof Error ? rollbackFailed : new Error(String(rollbackFailed));
    }
    throw error;
  } finally {
    conn.release(broken);
  }
}
