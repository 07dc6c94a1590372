// Mistake: only the primary lease gets `await using`; the replica lease is released after its query, which is never reached when the readings query fails first, so every failed request keeps a replica connection.
// Expect: "nothing gave its replica connection back on that path"
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
    const replicaConn = await replica.acquire();
    const readings = await readSensors(conn, faults);
    const { rows } = await replicaConn.query<{ total: number }>(COUNT_QUERY);
    replicaConn.release();
    return { readings, total: rows[0].total };
  });
}
