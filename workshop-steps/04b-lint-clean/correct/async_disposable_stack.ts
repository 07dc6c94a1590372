// Correct: each function registers the lease on an AsyncDisposableStack the moment it exists (`stack.use(await pool.acquire())`) and snapshotReport() defers its ROLLBACK on the same stack, so disposal rolls back an unfinished transaction and then releases, after every query has settled.
/**
 * Step 4b: the queries behind the sensor dashboard.
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

/**
 * The readings recorded at or after `since`, oldest first. A `since` Postgres
 * cannot read as a time ("last tuesday") fails with SQLSTATE 22007.
 */
export async function readingsSince(pool: TracedPool, since: string): Promise<unknown[]> {
  await using stack = new AsyncDisposableStack();
  const conn = stack.use(await pool.acquire());
  return (await conn.query(SINCE_QUERY, [since])).rows;
}

/** The newest reading. Fails with SQLSTATE 57014 when `faults` says so. */
export async function newestReading(pool: TracedPool, faults: FaultSchedule): Promise<unknown> {
  await using stack = new AsyncDisposableStack();
  const conn = stack.use(await pool.acquire());
  return (await readSensors(conn, faults))[0];
}

/** The latest 10 readings, newest first. Fails with SQLSTATE 57014 when `faults` says so. */
export async function latestReadings(pool: TracedPool, faults: FaultSchedule): Promise<unknown[]> {
  await using stack = new AsyncDisposableStack();
  const conn = stack.use(await pool.acquire());
  const rows = await readSensors(conn, faults);
  return rows;
}

/** The sensor ids in a query result. */
const sensorIds = (result: { rows: Record<string, unknown>[] }) => result.rows.map((row) => String(row.sensor_id));

/** The ids of the sensors that ever read above `threshold`, sorted. */
export async function hotSensors(pool: TracedPool, threshold: number): Promise<string[]> {
  await using stack = new AsyncDisposableStack();
  const conn = stack.use(await pool.acquire());
  const ids = await conn.query(HOT_QUERY, [threshold]).then(sensorIds);
  return ids;
}

/**
 * The latest 10 readings and the row count, from one snapshot so the two
 * agree. Fails with SQLSTATE 57014 when `faults` says so, after rolling back.
 */
export async function snapshotReport(pool: TracedPool, faults: FaultSchedule): Promise<SnapshotReport> {
  await using stack = new AsyncDisposableStack();
  const conn = stack.use(await pool.acquire());
  let open = false;
  // Disposed first (stacks unwind in reverse), before the lease goes back: end a transaction nobody committed.
  stack.defer(async () => {
    if (open) await conn.query("ROLLBACK");
  });
  await conn.query(SNAPSHOT);
  open = true;
  const readings = await readSensors(conn, faults);
  const { rows } = await conn.query<{ total: number }>(COUNT_QUERY);
  await conn.query("COMMIT");
  open = false;
  return { readings, total: rows[0].total };
}
