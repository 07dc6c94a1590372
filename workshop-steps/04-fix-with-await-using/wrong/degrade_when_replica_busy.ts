// Mistake: when the replica is busy it degrades to a report with total -1 instead of failing, so the request no longer fails with the replica's PoolExhaustedError as the README requires.
// Expect: "must fail with the error replica.acquire() threw"
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
import { PoolExhaustedError } from "leak-lab/pool.ts";
import type { Lease } from "leak-lab/pool.ts";

/** One GET /report request, in its own `sensor_report` scope on the primary. */
export function sensorReport(primary: TracedPool, replica: TracedPool, faults: FaultSchedule): Promise<SensorReport> {
  return primary.scope("sensor_report", async () => {
    await using conn = await primary.acquire();
    let replicaConn: Lease | undefined;
    try {
      replicaConn = await replica.acquire();
    } catch (error) {
      if (!(error instanceof PoolExhaustedError)) throw error;
    }
    try {
      const readings = await readSensors(conn, faults);
      if (!replicaConn) return { readings, total: -1 }; // replica busy: the count can wait
      const { rows } = await replicaConn.query<{ total: number }>(COUNT_QUERY);
      return { readings, total: rows[0].total };
    } finally {
      replicaConn?.release();
    }
  });
}
