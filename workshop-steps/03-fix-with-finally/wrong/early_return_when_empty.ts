// Mistake: returns early when there are no rows, before the release: an empty table leaks every connection.
// Expect: "a path taken only when there are no rows skips the release"
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
    let rows: unknown[];
    try {
      rows = await readSensors(conn, faults);
    } catch (error) {
      conn.release();
      throw error;
    }
    if (rows.length === 0) return [];
    conn.release();
    return rows;
  });
}
