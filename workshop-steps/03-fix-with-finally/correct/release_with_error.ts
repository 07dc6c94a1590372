// Correct: pg's style: `release(error)` on the error path (the pool closes that connection), `release()` on success.
/**
 * Step 3: the handler behind GET /sensors — a correct attempt in another style than the solution's, kept so CI proves the
 * checkpoint accepts it.
 *
 * @module
 */
import { type FaultSchedule, readSensors } from "leak-lab/demo/fault_schedule.ts";
import type { TracedPool } from "leak-lab/pool.ts";

/** The latest sensor readings, in their own `list_sensors` scope. */
export function listSensors(pool: TracedPool, faults: FaultSchedule): Promise<unknown[]> {
  return pool.scope("list_sensors", async () => {
    // the rule wants one release in finally; here the catch releases with the error (pg's style) and rethrows, and
    // the only other path out of the try reaches the release below it: every path releases once.
    // deno-lint-ignore leak-lab/release-on-every-path
    const conn = await pool.acquire();
    let rows: unknown[];
    try {
      rows = await readSensors(conn, faults);
    } catch (error) {
      conn.release(error instanceof Error ? error : true);
      throw error;
    }
    conn.release();
    return rows;
  });
}
