// Mistake: it releases the connection right after sending the query and only then awaits the result, so the connection is back in the pool (and can be handed to another request) while its query is still running.
// Expect: "back to the pool before its query finished"
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
    const pending = readSensors(conn, faults); // the query is on the wire now
    conn.release(); // every path reaches this line: nothing can throw before it
    return await pending;
  });
}
