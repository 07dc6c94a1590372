// Mistake: chains .finally(release) on the query but awaits the original promise: the chained one rejects with nobody handling it.
// Expect: "A promise rejected and nothing handled it"
/**
 * Step 3: the handler behind GET /sensors — a known-wrong attempt, kept so CI proves the checkpoint rejects it.
 *
 * @module
 */
import { type FaultSchedule, readSensors } from "leak-lab/demo/fault_schedule.ts";
import type { TracedPool } from "leak-lab/pool.ts";

/** The latest sensor readings, in their own `list_sensors` scope. */
export function listSensors(pool: TracedPool, faults: FaultSchedule): Promise<unknown[]> {
  return pool.scope("list_sensors", async () => {
    const conn = await pool.acquire();
    const query = readSensors(conn, faults);
    query.finally(() => conn.release());
    return await query;
  });
}
