// Mistake: acquires the connection before entering pool.scope("list_sensors"), so the scope does not own the lease: its get_connection is outside the list_sensors span and a leak would never be detected by the scope.
// Expect: "has no list_sensors span"
/**
 * Step 3: the handler behind GET /sensors, with the original demo's bug.
 *
 * @module
 */
import { type FaultSchedule, readSensors } from "leak-lab/demo/fault_schedule.ts";
import type { TracedPool } from "leak-lab/pool.ts";

/**
 * The latest sensor readings. One call is one request, run in its own
 * `list_sensors` scope so the pool can tell when it kept a connection.
 * When `faults` says so, the query fails (SQLSTATE 57014) and so does the request.
 */
export async function listSensors(pool: TracedPool, faults: FaultSchedule): Promise<unknown[]> {
  const conn = await pool.acquire();
  return await pool.scope("list_sensors", async () => {
    try {
      return await readSensors(conn, faults);
    } finally {
      conn.release();
    }
  });
}
