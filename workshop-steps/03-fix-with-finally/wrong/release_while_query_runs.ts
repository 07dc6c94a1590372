// Mistake: starts the query, releases, then awaits the rows: the connection goes back while its query still runs.
// Expect: "back to the pool before its query finished"
/**
 * Step 3: the handler behind GET /sensors — a known-wrong attempt, kept so CI proves the checkpoint rejects it.
 *
 * @module
 */
import { type FaultSchedule, readSensors } from "leak-lab/demo/fault_schedule.ts";
import type { TracedPool } from "leak-lab/pool.ts";

/** The latest sensor readings, in their own `list_sensors` scope. */
export function listSensors(pool: TracedPool, faults: FaultSchedule): Promise<unknown[]> {
  return pool.scope("list_sensors", async () => {
    const conn = await pool.acquire();
    const rows = readSensors(conn, faults);
    conn.release(); // released on every path: nothing between here and acquire() can throw
    return await rows;
  });
}
