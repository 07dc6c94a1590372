// Mistake: releases the primary only when replica.acquire() throws PoolExhaustedError: a replica that is down (any other error) still leaks it.
// Expect: "(the replica was down)"
/**
 * Step 4: GET /report on two pools — a known-wrong attempt, kept so CI proves the checkpoint rejects it.
 *
 * @module
 */
import { type FaultSchedule, readSensors } from "leak-lab/demo/fault_schedule.ts";
import { PoolExhaustedError, type TracedPool } from "leak-lab/pool.ts";

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
    let replicaConn;
    try {
      replicaConn = await replica.acquire();
    } catch (error) {
      if (error instanceof PoolExhaustedError) conn.release(); // the replica is busy: give the primary back
      throw error;
    }
    try {
      const readings = await readSensors(conn, faults);
      const { rows } = await replicaConn.query<{ total: number }>(COUNT_QUERY);
      return { readings, total: rows[0].total };
    } finally {
      replicaConn.release();
      conn.release();
    }
  });
}
