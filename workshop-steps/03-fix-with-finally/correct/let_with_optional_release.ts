// Correct: `let conn` declared before the try and released with `conn?.release()` in finally: a failed acquire has nothing to release, every acquired lease goes back once, after the awaited query.
/**
 * Step 3: the handler behind GET /sensors, with the original demo's bug.
 *
 * @module
 */
import { type FaultSchedule, readSensors } from "leak-lab/demo/fault_schedule.ts";
import type { Lease, TracedPool } from "leak-lab/pool.ts";

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
      return await readSensors(conn, faults);
    } finally {
      conn?.release();
    }
  });
}
