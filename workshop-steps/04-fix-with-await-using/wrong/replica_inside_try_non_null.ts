// Mistake: replica.acquire() moved inside the try, but the finally calls replicaConn!.release() first, so when the replica is busy it throws a TypeError before conn.release() runs: the primary still leaks and the PoolExhaustedError is replaced.
// Expect: "then the code itself threw TypeError"
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
    let replicaConn: Lease | undefined;
    try {
      replicaConn = await replica.acquire();
      const readings = await readSensors(conn, faults);
      const { rows } = await replicaConn.query<{ total: number }>(COUNT_QUERY);
      return { readings, total: rows[0].total };
    } finally {
      replicaConn!.release(); // released in reverse order, as await using would
      conn.release();
    }
  });
}
