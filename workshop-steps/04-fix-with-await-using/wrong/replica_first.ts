// Mistake: it takes the replica connection first so a busy replica fails before anything is held, but the same gap now leaks the replica connection whenever primary.acquire() throws PoolExhaustedError.
// Expect: "taking the replica first only moved the leak to the other lease"
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
    // The replica is the pool that runs dry: ask it first, before holding a primary connection.
    const replicaConn = await replica.acquire();
    const conn = await primary.acquire();
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
