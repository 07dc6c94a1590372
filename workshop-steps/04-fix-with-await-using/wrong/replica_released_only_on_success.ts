// Mistake: the primary is under `await using`, but the replica is released by a plain call after its count query, so if that query fails the replica connection leaks (it only looks fine because the count query never fails in practice).
// Expect: "nothing gave its replica connection back on that path"
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
    await using conn = await primary.acquire();
    // Count first and hand the scarce replica back straight away.
    const replicaConn = await replica.acquire();
    const { rows } = await replicaConn.query<{ total: number }>(COUNT_QUERY);
    replicaConn.release();
    const readings = await readSensors(conn, faults);
    return { readings, total: rows[0].total };
  });
}
