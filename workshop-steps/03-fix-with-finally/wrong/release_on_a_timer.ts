// Mistake: finally hands the release to setTimeout(…, 0): the connection comes back only after the request has ended.
// Expect: "after the request had ended"
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
    try {
      return await readSensors(conn, faults);
    } finally {
      // Give it back once the response is on its way.
      setTimeout(() => conn.release(), 0);
    }
  });
}
