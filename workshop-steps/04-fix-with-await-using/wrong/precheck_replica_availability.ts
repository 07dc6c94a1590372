// Mistake: checks replica.stats().available before taking the primary and keeps the original shape, a time-of-check/time-of-use race: if the replica is taken by another request meanwhile, replica.acquire() still times out after the primary was taken and that primary connection leaks (and the pre-check throws a made-up PoolExhaustedError that never waited).
// Expect: "(the replica was down) after the primary connection was taken"
/**
 * Step 4: a handler that needs two connections — the latest readings from the
 * primary, the row count from a read replica whose small pool is often busy.
 *
 * @module
 */
import { type FaultSchedule, readSensors } from "leak-lab/demo/fault_schedule.ts";
import { PoolExhaustedError, type TracedPool } from "leak-lab/pool.ts";

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
    const stats = replica.stats();
    if (stats.available === 0) {
      // Fail before taking anything: nothing to clean up.
      throw new PoolExhaustedError(replica.name, 0, stats, []);
    }
    const conn = await primary.acquire();
    const replicaConn = await replica.acquire();
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
