// Mistake: on failure it releases only when the error is the statement timeout (SQLSTATE 57014), so any other query error (a syntax error, a lost connection, a different SQLSTATE) still leaks the connection.
// Expect: "the path out for this other error (SQLSTATE 55P03) skips the release"
import { type FaultSchedule, readSensors } from "leak-lab/demo/fault_schedule.ts";
import type { TracedPool } from "leak-lab/pool.ts";
import { sqlstate } from "leak-lab/postgres.ts";

/**
 * The latest sensor readings. One call is one request, run in its own
 * `list_sensors` scope so the pool can tell when it kept a connection.
 * When `faults` says so, the query fails (SQLSTATE 57014) and so does the request.
 */
export function listSensors(pool: TracedPool, faults: FaultSchedule): Promise<unknown[]> {
  return pool.scope("list_sensors", async () => {
    const conn = await pool.acquire();
    let rows: unknown[];
    try {
      rows = await readSensors(conn, faults);
    } catch (error) {
      if (sqlstate(error) === "57014") conn.release(); // statement timeout: the connection itself is fine
      throw error;
    }
    conn.release();
    return rows;
  });
}
