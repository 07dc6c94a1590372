// Mistake: when the replica is busy it counts on the primary instead, so the request succeeds rather than failing with the replica's PoolExhaustedError as the README requires (graceful degradation hides the error).
// Expect: "there is no connection to report with. It succeeded"
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
    await using conn = await primary.acquire();
    const readings = await readSensors(conn, faults);
    let replicaConn;
    try {
      replicaConn = await replica.acquire();
    } catch (error) {
      if (!(error instanceof PoolExhaustedError)) throw error;
      // Replica busy: the primary has the same rows.
      const { rows } = await conn.query<{ total: number }>(COUNT_QUERY);
      return { readings, total: rows[0].total };
    }
    await using _replica = replicaConn;
    const { rows } = await replicaConn.query<{ total: number }>(COUNT_QUERY);
    return { readings, total: rows[0].total };
  });
}
