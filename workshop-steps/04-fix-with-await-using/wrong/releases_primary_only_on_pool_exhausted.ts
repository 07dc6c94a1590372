// Mistake: returns the primary connection only when replica.acquire() fails with PoolExhaustedError, so any other acquire failure (PoolEndedError, a DatabaseConnectionError) still leaks the primary connection.
// Expect: "(the replica was down) after the primary connection was taken"
/**
 * Step 4: a handler that needs two connections — the latest readings from the
 * primary, the row count from a read replica whose small pool is often busy.
 *
 * @module
 */
import { type FaultSchedule, readSensors } from "leak-lab/demo/fault_schedule.ts";
import { PoolExhaustedError, type TracedPool } from "leak-lab/pool.ts";

/** The count query, run on the replica. */
export const COUNT_QUERY = "SELECT count(*)::int AS total FROM sensors";

/** What GET /report answers. */
export interface SensorReport {
  /** The latest readings, from the primary (they fail when `faults` says so). */
  readings: unknown[];
  /** How many readings there are, from the replica. */
  total: number;
}

/** One GET /report request, in its own `sensor_report` scope on the primary. */
export function sensorReport(primary: TracedPool, replica: TracedPool, faults: FaultSchedule): Promise<SensorReport> {
  return primary.scope("sensor_report", async () => {
    const conn = await primary.acquire();
    let replicaConn;
    try {
      replicaConn = await replica.acquire();
    } catch (error) {
      if (error instanceof PoolExhaustedError) conn.release(); // the busy-replica case
      throw error;
    }
    try {
      const readings = await readSensors(conn, faults);
      const { rows } = await replicaConn.query<{ total: number }>(COUNT_QUERY);
      return { readings, total: rows[0].total };
    } finally {
      replicaConn.release();
      conn.release();
    }
  });
}
