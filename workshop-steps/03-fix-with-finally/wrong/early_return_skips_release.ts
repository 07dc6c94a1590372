// Mistake: release() moved to `catch` and to the end of `try` but the early `return` skips it: only the error path releases.
// Expect: "the successful path now leaks"
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
      const rows = await readSensors(conn, faults);
      if (rows.length > 0) return rows;
      conn.release();
      return rows;
    } catch (error) {
      conn.release();
      throw error;
    }
  });
}
