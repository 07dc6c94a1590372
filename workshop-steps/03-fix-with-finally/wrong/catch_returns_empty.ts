// Mistake: it returns the connection but swallows the query's error and answers an empty list, so scheduled failures no longer fail with SQLSTATE 57014, which the README says is not a fix.
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
      return await readSensors(conn, faults);
    } catch (error) {
      console.warn("list_sensors: query failed, answering no readings", error);
      return [];
    } finally {
      conn.release();
    }
  });
}
