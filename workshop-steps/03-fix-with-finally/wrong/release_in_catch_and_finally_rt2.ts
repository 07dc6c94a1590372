// Mistake: releases in the catch and again in finally, so on a failed query the second release() throws LeaseReleasedError from finally and replaces the SQLSTATE 57014 error the request must fail with.
// Expect: "released its connection twice"
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
    } catch (error) {
      conn.release(); // give it back before anything else on the error path
      throw error;
    } finally {
      conn.release();
    }
  });
}
