// Correct: releases explicitly on each of the two paths, in the catch before rethrowing the very same error and after the awaited query on success, exactly once each.
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
    // The rule wants one release in finally; here the catch releases and rethrows, and the only
    // other path out of the try reaches the release after it: every path releases once.
    // deno-lint-ignore leak-lab/release-on-every-path
    const conn = await pool.acquire();
    let rows: unknown[];
    try {
      rows = await readSensors(conn, faults);
    } catch (error) {
      conn.release();
      throw error;
    }
    conn.release();
    return rows;
  });
}
