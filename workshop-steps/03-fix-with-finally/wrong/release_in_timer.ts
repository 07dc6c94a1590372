// Mistake: defers the release to a setTimeout "so the response is not held up", so the connection is still out when the list_sensors scope ends (reported leaked) and is returned only later, outside the request.
// Expect: "after the request had ended"
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
export function listSensors(pool: TracedPool, faults: FaultSchedule): Promise<unknown[]> {
  return pool.scope("list_sensors", async () => {
    const conn = await pool.acquire();
    try {
      return await readSensors(conn, faults);
    } finally {
      setTimeout(() => conn.release(), 0);
    }
  });
}
