// Mistake: snapshotReport() silences the rule with a deno-lint-ignore comment instead of moving BEGIN into the try, so a BEGIN that throws still leaks the connection and the README rejects any ignore aimed at the rule.
// Expect: "An ignore comment hides the report from `deno lint`"
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
  await using conn = await pool.acquire();
  const { rows } = await conn.query(SINCE_QUERY, [since]);
  return rows;
}

/** The newest reading. Fails with SQLSTATE 57014 when `faults` says so. */
export async function newestReading(pool: TracedPool, faults: FaultSchedule): Promise<unknown> {
  await using conn = await pool.acquire();
  const [newest] = await readSensors(conn, faults);
  return newest;
}

/** The latest 10 readings, newest first. Fails with SQLSTATE 57014 when `faults` says so. */
export async function latestReadings(pool: TracedPool, faults: FaultSchedule): Promise<unknown[]> {
  await using conn = await pool.acquire();
  return await readSensors(conn, faults);
}

/** The sensor ids in a query result. */
const sensorIds = (result: { rows: Record<string, unknown>[] }) => result.rows.map((row) => String(row.sensor_id));

/** The ids of the sensors that ever read above `threshold`, sorted. */
export async function hotSensors(pool: TracedPool, threshold: number): Promise<string[]> {
  await using conn = await pool.acquire();
  return sensorIds(await conn.query(HOT_QUERY, [threshold]));
}

/** The latest 10 readings and the row count, from one snapshot so the two agree. */
export async function snapshotReport(pool: TracedPool, faults: FaultSchedule): Promise<SnapshotReport> {
  // BEGIN never fails in practice: the rule is being too strict here.
  // deno-lint-ignore leak-lab/release-on-every-path
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
