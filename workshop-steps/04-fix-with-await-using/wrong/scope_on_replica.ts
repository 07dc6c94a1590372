// Mistake: it fixes the cleanup but opens the sensor_report scope on the replica pool, while the README asks for the scope on the primary, so the primary's leases run in no primary scope and the primary can no longer tell when a request kept one.
// Expect: "no sensor_report span from the primary pool"
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
  return replica.scope("sensor_report", async () => {
    await using conn = await primary.acquire();
    await using replicaConn = await replica.acquire();
    const readings = await readSensors(conn, faults);
    const { rows } = await replicaConn.query<{ total: number }>(COUNT_QUERY);
    return { readings, total: rows[0].total };
  });
}
