// Correct: the lease is a `let` declared before a try that also covers acquire(), and the finally releases it only if one was obtained (conn?.release()), so an acquire failure propagates unchanged and every obtained lease goes back after its query.
import { type FaultSchedule, readSensors } from "leak-lab/demo/fault_schedule.ts";
import type { TracedPool } from "leak-lab/pool.ts";
import type { Lease } from "leak-lab/pool.ts";

/**
 * The latest sensor readings. One call is one request, run in its own
 * `list_sensors` scope so the pool can tell when it kept a connection.
 * When `faults` says so, the query fails (SQLSTATE 57014) and so does the request.
 */
export function listSensors(pool: TracedPool, faults: FaultSchedule): Promise<unknown[]> {
  return pool.scope("list_sensors", async () => {
    let conn: Lease | undefined;
    try {
      conn = await pool.acquire();
      const rows = await readSensors(conn, faults);
      return rows;
    } finally {
      conn?.release();
      conn = undefined;
    }
  });
}
