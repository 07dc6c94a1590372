// Mistake: retries a query cancelled with SQLSTATE 57014 once on the same connection, so scheduled failures usually turn into successes and the request no longer fails as it must.
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
      try {
        return await readSensors(conn, faults);
      } catch (error) {
        if ((error as { code?: string }).code !== "57014") throw error;
        return await readSensors(conn, faults); // a statement timeout is transient: one more try
      }
    } finally {
      conn.release();
    }
  });
}
