// Mistake: on failure it releases in the catch and again in the finally, so the second release() throws LeaseReleasedError out of the finally and replaces the query's SQLSTATE 57014 error.
// Expect: "released its connection twice"
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
      conn.release(); // give it back right away when the query fails
      throw error;
    } finally {
      conn.release(); // and on every other path
    }
  });
}
