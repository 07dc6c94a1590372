// Correct: both leases are `let` variables assigned inside a single try, and the finally releases whichever exist (`?.`), replica first, so a failed second acquire still returns the first.
/**
 * Step 4: a handler that needs two connections — the latest readings from the
 * primary, the row count from a read replica whose small pool is often busy.
 *
 * @module
 */
import { type FaultSchedule, readSensors } from "leak-lab/demo/fault_schedule.ts";
import type { Lease, TracedPool } from "leak-lab/pool.ts";

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
    let conn: Lease | undefined;
    let replicaConn: Lease | undefined;
    try {
      conn = await primary.acquire();
      replicaConn = await replica.acquire();
      const readings = await readSensors(conn, faults);
      const { rows } = await replicaConn.query<{ total: number }>(COUNT_QUERY);
      return { readings, total: rows[0].total };
    } finally {
      replicaConn?.release();
      conn?.release();
    }
  });
}
