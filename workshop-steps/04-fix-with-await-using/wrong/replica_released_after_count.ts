// Mistake: takes the replica after the readings and releases it right after the count, outside any finally: a failing count query leaks it.
// Expect: "its count query on the replica failed and nothing gave its replica connection back"
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
    const readings = await readSensors(conn, faults);
    const replicaConn = await replica.acquire();
    const { rows } = await replicaConn.query<{ total: number }>(COUNT_QUERY);
    replicaConn.release();
    return { readings, total: rows[0].total };
  });
}
