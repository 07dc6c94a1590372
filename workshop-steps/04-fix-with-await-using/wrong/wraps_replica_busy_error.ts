// Mistake: both leases are under `await using`, but a busy replica's PoolExhaustedError is replaced by a generic "unavailable" Error, so the request no longer fails with the replica's PoolExhaustedError.
// Expect: "that error came after acquire() had failed, and replaced it"
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

/** GET /report could not be answered now; try again later. */
export class ReportUnavailableError extends Error {
  constructor(options?: ErrorOptions) {
    super("GET /report is unavailable: the read replica is busy, try again later", options);
    this.name = "ReportUnavailableError";
  }
}

/** One GET /report request, in its own `sensor_report` scope on the primary. */
export function sensorReport(primary: TracedPool, replica: TracedPool, faults: FaultSchedule): Promise<SensorReport> {
  return primary.scope("sensor_report", async () => {
    await using conn = await primary.acquire();
    await using replicaConn = await replica.acquire().catch((error: unknown) => {
      throw error instanceof PoolExhaustedError ? new ReportUnavailableError({ cause: error }) : error;
    });
    const readings = await readSensors(conn, faults);
    const { rows } = await replicaConn.query<{ total: number }>(COUNT_QUERY);
    return { readings, total: rows[0].total };
  });
}
