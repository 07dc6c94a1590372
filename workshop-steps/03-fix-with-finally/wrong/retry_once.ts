// Mistake: it returns the connection but retries a failed query once on the same connection, so a scheduled failure becomes a success and the request no longer fails with SQLSTATE 57014.
// Expect: "the error was caught and swallowed"
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
      } catch {
        return await readSensors(conn, faults); // a statement timeout is transient: one retry
      }
    } finally {
      conn.release();
    }
  });
}
