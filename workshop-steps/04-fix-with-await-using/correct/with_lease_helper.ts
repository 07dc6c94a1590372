// Correct: a withLease(pool, fn) helper wraps acquire/try/await fn/finally release, and nesting it twice gives each lease its own cleanup from the moment it exists.
import { type FaultSchedule, readSensors } from "leak-lab/demo/fault_schedule.ts";
import type { TracedPool } from "leak-lab/pool.ts";

/** The count query, run on the replica. */
export const COUNT_QUERY = "SELECT count(*)::int AS total FROM sensors";

/** What GET /report answers. */
export interface SensorReport {
  /** The latest readings, from the primary (they fail when `faults` says so). */
  readings: unknown[];
  /** How many readings there are, from the replica. */
  total: number;
}
import type { Lease } from "leak-lab/pool.ts";

async function withLease<T>(pool: TracedPool, fn: (lease: Lease) => Promise<T>): Promise<T> {
  const lease = await pool.acquire();
  try {
    return await fn(lease);
  } finally {
    lease.release();
  }
}

/** One GET /report request, in its own `sensor_report` scope on the primary. */
export function sensorReport(primary: TracedPool, replica: TracedPool, faults: FaultSchedule): Promise<SensorReport> {
  return primary.scope("sensor_report", () =>
    withLease(primary, (conn) =>
      withLease(replica, async (replicaConn) => {
        const readings = await readSensors(conn, faults);
        const { rows } = await replicaConn.query<{ total: number }>(COUNT_QUERY);
        return { readings, total: rows[0].total };
      })));
}
