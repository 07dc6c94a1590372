// Mistake: it attaches .finally(() => conn.release()) to the query's promise without using the promise it returns, so when the query fails that second promise rejects unhandled and Deno terminates the process.
// Expect: "A promise rejected and nothing handled it"
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
    const query = readSensors(conn, faults);
    query.finally(() => conn.release());
    return await query;
  });
}
