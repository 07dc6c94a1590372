// Mistake: it sends the count query and releases the replica right away, before awaiting the result, so the replica's one connection can be handed to the next queued request while this count query still runs.
// Expect: "back to the pool before its query finished"
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
    const counting = replicaConn.query<{ total: number }>(COUNT_QUERY);
    replicaConn.release(); // nothing can throw between acquire and here: the replica always goes back
    counting.catch(() => {}); // reported below, when awaited
    const readings = await readSensors(conn, faults);
    const { rows } = await counting;
    return { readings, total: rows[0].total };
  });
}
