// Correct: a synchronous `using` declaration calls the lease's Symbol.dispose (release) when the block exits, and `return await` keeps the block open until the query has settled, on success and on failure.
import { type FaultSchedule, readSensors } from "leak-lab/demo/fault_schedule.ts";
import type { TracedPool } from "leak-lab/pool.ts";

/**
 * The latest sensor readings. One call is one request, run in its own
 * `list_sensors` scope so the pool can tell when it kept a connection.
 * When `faults` says so, the query fails (SQLSTATE 57014) and so does the request.
 */
export function listSensors(pool: TracedPool, faults: FaultSchedule): Promise<unknown[]> {
  return pool.scope("list_sensors", async () => {
    using conn = await pool.acquire();
    return await readSensors(conn, faults);
  });
}
