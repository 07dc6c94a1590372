// Mistake: it runs both queries at once with Promise.all inside the try, so when the readings query fails first the finally releases the replica connection while its count query may still be running.
// Expect: "a Promise.all rejects at the first failure"
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
    await using replicaConn = await replica.acquire();
    const [readings, { rows }] = await Promise.all([
      readSensors(conn, faults),
      replicaConn.query<{ total: number }>(COUNT_QUERY),
    ]);
    return { readings, total: rows[0].total };
  });
}
