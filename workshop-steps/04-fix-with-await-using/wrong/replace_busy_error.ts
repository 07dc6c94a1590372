// Mistake: it releases the primary when the replica is busy but rethrows a new "replica unavailable" Error, so the request fails with a plain Error instead of the replica's PoolExhaustedError.
// Expect: "that error came after acquire() had failed, and replaced it"
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

/** One GET /report request, in its own `sensor_report` scope on the primary. */
export function sensorReport(primary: TracedPool, replica: TracedPool, faults: FaultSchedule): Promise<SensorReport> {
  return primary.scope("sensor_report", async () => {
    const conn = await primary.acquire();
    let replicaConn: Lease;
    try {
      replicaConn = await replica.acquire();
    } catch (error) {
      conn.release();
      throw new Error("read replica unavailable, try again later", { cause: error });
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
