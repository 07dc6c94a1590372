// Mistake: drops the `pool.scope("list_sensors", …)` around the handler: nothing leaks, but the pool can no longer tell a leak.
// Expect: "trace has no list_sensors span"
/**
 * Step 3: the handler behind GET /sensors — a known-wrong attempt, kept so CI proves the checkpoint rejects it.
 *
 * @module
 */
import { type FaultSchedule, readSensors } from "leak-lab/demo/fault_schedule.ts";
import type { TracedPool } from "leak-lab/pool.ts";

/** The latest sensor readings. */
export async function listSensors(pool: TracedPool, faults: FaultSchedule): Promise<unknown[]> {
  const conn = await pool.acquire();
  try {
    return await readSensors(conn, faults);
  } finally {
    conn.release();
  }
}
