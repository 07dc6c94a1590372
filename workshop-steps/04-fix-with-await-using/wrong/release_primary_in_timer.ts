// Mistake: on a replica failure it defers the primary release to setTimeout "so the error returns fast", so the primary lease is still out when the sensor_report scope ends and is reported leaked.
// Expect: "after the request had ended"
/**
 * Step 4: a handler that needs two connections — the latest readings from the
 * primary, the row count from a read replica whose small pool is often busy.
 *
 * @module
 */
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

/** One GET /report request, in its own `sensor_report` scope on the primary. */
export function sensorReport(primary: TracedPool, replica: TracedPool, faults: FaultSchedule): Promise<SensorReport> {
  return primary.scope("sensor_report", async () => {
    const conn = await primary.acquire();
    let replicaConn;
    try {
      replicaConn = await replica.acquire();
    } catch (error) {
      setTimeout(() => conn.release(), 0);
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
