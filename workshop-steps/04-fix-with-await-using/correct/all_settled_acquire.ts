// Correct: both acquires at once with Promise.allSettled: if either fails, the one that succeeded is released before the error is rethrown.
/**
 * Step 4: GET /report on two pools — a correct attempt in another style than the solution's, kept so CI proves the
 * checkpoint accepts it.
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
    const [first, second] = await Promise.allSettled([primary.acquire(), replica.acquire()]);
    if (first.status === "rejected" || second.status === "rejected") {
      if (first.status === "fulfilled") first.value.release();
      if (second.status === "fulfilled") second.value.release();
      throw first.status === "rejected" ? first.reason : (second as PromiseRejectedResult).reason;
    }
    await using conn = first.value;
    await using replicaConn = second.value;
    const readings = await readSensors(conn, faults);
    const { rows } = await replicaConn.query<{ total: number }>(COUNT_QUERY);
    return { readings, total: rows[0].total };
  });
}
