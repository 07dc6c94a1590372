// Mistake: it adds the finally but keeps the original release() after the query, so every successful request releases twice and the second release() throws LeaseReleasedError, failing requests that should return rows.
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
      const rows = await readSensors(conn, faults);
      conn.release();
      return rows;
    } finally {
      conn.release();
    }
  });
}
