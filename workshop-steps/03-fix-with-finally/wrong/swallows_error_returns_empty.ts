// Mistake: the connection is released in finally, but the catch turns a failed query into an empty list, so scheduled failures no longer fail the request (the README: swallowing the error is not a fix).
// Expect: "the error was caught and swallowed"
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
      console.warn("list_sensors: query failed, answering with no readings", error);
      return [];
    } finally {
      conn.release();
    }
  });
}
