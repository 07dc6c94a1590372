// Mistake: catches a failed count query and answers total 0: the replica's error never reaches the caller.
// Expect: "its count query on the replica failed, but the error was caught and swallowed"
/**
 * Step 4: GET /report on two pools — a known-wrong attempt, kept so CI proves the checkpoint rejects it.
 *
 * @module
 */
import { type FaultSchedule, readSensors } from "leak-lab/demo/fault_schedule.ts";
import type { TracedPool } from "leak-lab/pool.ts";

/** The count query, run on the replica. */
export const COUNT_QUERY = "SELECT count(*)::int AS total FROM sensors";

/** What GET /report answers. */
export interface SensorReport {
  readings: unknown[];
  total: number;
}

/** One GET /report request, in its own `sensor_report` scope on the primary. */
export function sensorReport(primary: TracedPool, replica: TracedPool, faults: FaultSchedule): Promise<SensorReport> {
  return primary.scope("sensor_report", async () => {
    await using conn = await primary.acquire();
    await using replicaConn = await replica.acquire();
    const readings = await readSensors(conn, faults);
    let total = 0;
    try {
      total = (await replicaConn.query<{ total: number }>(COUNT_QUERY)).rows[0].total;
    } catch {
      // the count is only decoration
    }
    return { readings, total };
  });
}
