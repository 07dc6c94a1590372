// Mistake: releases on success and in the catch only when the error is SQLSTATE 57014, so any other failure of the query (a syntax error, a lost connection, 22007...) still leaks the connection.
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
export function listSensors(pool: TracedPool, faults: FaultSchedule): Promise<unknown[]> {
  return pool.scope("list_sensors", async () => {
    const conn = await pool.acquire();
    try {
      const rows = await readSensors(conn, faults);
      conn.release();
      return rows;
    } catch (error) {
      // The statement timeout is the failure that leaked: give the connection back then.
      if ((error as { code?: string }).code === "57014") conn.release();
      throw error;
    }
  });
}
