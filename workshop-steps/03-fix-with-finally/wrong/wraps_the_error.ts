// Mistake: rethrows the query's error wrapped in a new Error: the caller loses the real error and its SQLSTATE.
// Expect: "failed with Error: Could not list the sensors"
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
    } catch (error) {
      throw new Error("Could not list the sensors", { cause: error });
    } finally {
      conn.release();
    }
  });
}
