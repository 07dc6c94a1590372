// Mistake: wraps the query error in a new Error, so the request no longer fails with the Postgres error and its SQLSTATE 57014 (only buried in `cause`).
// Expect: "let the real error reach the caller"
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
      throw new Error("GET /sensors: could not read the latest readings", { cause: error });
    } finally {
      conn.release();
    }
  });
}
