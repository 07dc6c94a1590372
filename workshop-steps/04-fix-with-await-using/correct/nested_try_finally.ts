// Correct: nested try/finally: each lease's try starts on the line after its acquire(), so every lease has its cleanup from the moment it exists.
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
    const conn = await primary.acquire();
    try {
      const replicaConn = await replica.acquire();
      try {
        const readings = await readSensors(conn, faults);
        const { rows } = await replicaConn.query<{ total: number }>(COUNT_QUERY);
        return { readings, total: rows[0].total };
      } finally {
        replicaConn.release();
      }
    } finally {
      conn.release();
    }
  });
}
