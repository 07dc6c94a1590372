// Correct: an awaited `.finally(() => conn.release())` on the query: runs on success and failure, before the request settles.
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
    const conn = await pool.acquire();
    return await readSensors(conn, faults).finally(() => conn.release());
  });
}
