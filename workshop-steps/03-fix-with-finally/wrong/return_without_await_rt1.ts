// Mistake: the try returns readSensors()'s promise without awaiting it, so the finally releases the connection as soon as the query is sent, while it still runs, and the next request can be handed a busy connection.
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
    try {
      return readSensors(conn, faults);
    } finally {
      conn.release();
    }
  });
}
