// Correct: synchronous `using` (the lease implements Symbol.dispose) registers each lease's release at once, replica first and primary second, which is safe because each cleanup exists from the moment its lease does, whatever the order.
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
    using replicaConn = await replica.acquire();
    using conn = await primary.acquire();
    const readings = await readSensors(conn, faults);
    const total = (await replicaConn.query<{ total: number }>(COUNT_QUERY)).rows[0].total;
    return { readings, total };
  });
}
