// Mistake: keeps the leaking handler and calls pool.reset() after a failed request to reclaim the leaked connection, which closes it instead of returning it (the README: tidying up with pool.reset() does not count).
// Expect: "and its connection never came back"
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
  try {
    return await pool.scope("list_sensors", async () => {
      const conn = await pool.acquire();
      const rows = await readSensors(conn, faults);
      conn.release();
      return rows;
    });
  } catch (error) {
    pool.reset(); // the scope has marked the connection leaked: take it back
    throw error;
  }
}
