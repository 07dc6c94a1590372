// Mistake: it moves the two `await using` acquires into a helper that returns the leases, so both are released when the helper returns, before any query runs, and every query then fails on a released connection.
// Expect: "a connection was used after it had been given back"
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

async function acquireBoth(primary: TracedPool, replica: TracedPool): Promise<[Lease, Lease]> {
  await using conn = await primary.acquire();
  await using replicaConn = await replica.acquire();
  return [conn, replicaConn];
}

/** One GET /report request, in its own `sensor_report` scope on the primary. */
export function sensorReport(primary: TracedPool, replica: TracedPool, faults: FaultSchedule): Promise<SensorReport> {
  return primary.scope("sensor_report", async () => {
    const [conn, replicaConn] = await acquireBoth(primary, replica);
    const readings = await readSensors(conn, faults);
    const { rows } = await replicaConn.query<{ total: number }>(COUNT_QUERY);
    return { readings, total: rows[0].total };
  });
}
