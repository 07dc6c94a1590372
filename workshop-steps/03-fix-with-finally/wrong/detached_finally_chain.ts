// Mistake: attaches the release with a detached `.finally()` that nobody awaits, so every failed query also leaves an unhandled rejection on that derived promise (which Deno turns into a crash).
// Expect: "A promise rejected and nothing handled it"
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
    const rows = readSensors(conn, faults);
    rows.finally(() => conn.release()); // released whatever happens
    return rows;
  });
}
