// Mistake: acquire() moved inside the try with `let conn` and a non-null assertion in finally, so when acquire() itself fails (the pool is exhausted) the finally throws a TypeError that replaces the PoolExhaustedError.
// Expect: "that error was thrown after acquire() had failed"
import { type FaultSchedule, readSensors } from "leak-lab/demo/fault_schedule.ts";
import type { TracedPool } from "leak-lab/pool.ts";
import type { Lease } from "leak-lab/pool.ts";

/**
 * The latest sensor readings. One call is one request, run in its own
 * `list_sensors` scope so the pool can tell when it kept a connection.
 * When `faults` says so, the query fails (SQLSTATE 57014) and so does the request.
 */
export function listSensors(pool: TracedPool, faults: FaultSchedule): Promise<unknown[]> {
  return pool.scope("list_sensors", async () => {
    let conn: Lease | undefined;
    try {
      conn = await pool.acquire();
      return await readSensors(conn, faults);
    } finally {
      conn!.release();
    }
  });
}
