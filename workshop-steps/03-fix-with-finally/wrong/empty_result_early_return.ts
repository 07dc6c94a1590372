// Mistake: a fast path returns early when there are no readings, before the success-path release(), so on an empty sensors table every request keeps its connection (the catch only covers the failing query).
// Expect: "a path taken only when there are no rows skips the release"
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
    let rows: unknown[];
    try {
      rows = await readSensors(conn, faults);
    } catch (error) {
      conn.release(); // the failing query no longer keeps its connection
      throw error;
    }
    if (rows.length === 0) return []; // no readings yet: nothing to send
    conn.release();
    return rows;
  });
}
