// Correct: it keeps the original shape but closes the gap explicitly: if replica.acquire() throws, a catch releases the primary and rethrows the very same PoolExhaustedError; after that one finally covers both leases.
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
import type { Lease } from "leak-lab/pool.ts";

/** One GET /report request, in its own `sensor_report` scope on the primary. */
export function sensorReport(primary: TracedPool, replica: TracedPool, faults: FaultSchedule): Promise<SensorReport> {
  return primary.scope("sensor_report", async () => {
    // The rule sees replica.acquire() before the try that releases `conn`; the catch around that acquire releases
    // `conn` and rethrows, so the gap it reports is closed.
    // deno-lint-ignore leak-lab/release-on-every-path
    const conn = await primary.acquire();
    let replicaConn: Lease;
    try {
      replicaConn = await replica.acquire();
    } catch (error) {
      conn.release();
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
