// Correct: .then(onFulfilled, onRejected) releases in both handlers, returning the rows or rethrowing the original error, so exactly one release happens after the query settled on either path.
import { type FaultSchedule, readSensors } from "leak-lab/demo/fault_schedule.ts";
import type { TracedPool } from "leak-lab/pool.ts";

/**
 * The latest sensor readings. One call is one request, run in its own
 * `list_sensors` scope so the pool can tell when it kept a connection.
 * When `faults` says so, the query fails (SQLSTATE 57014) and so does the request.
 */
export function listSensors(pool: TracedPool, faults: FaultSchedule): Promise<unknown[]> {
  return pool.scope("list_sensors", async () => {
    // the callbacks are the two handlers of an awaited .then(): one of them runs before the request settles.
    // deno-lint-ignore leak-lab/release-on-every-path
    const conn = await pool.acquire();
    return await readSensors(conn, faults).then(
      (rows) => {
        conn.release();
        return rows;
      },
      (error: unknown) => {
        conn.release();
        throw error;
      },
    );
  });
}
