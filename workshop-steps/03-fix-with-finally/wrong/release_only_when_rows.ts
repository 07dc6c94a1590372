// Mistake: finally releases only when the query gave rows: a failed query skips it and leaks.
// Expect: "and its connection never came back"
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
    let rows: unknown[] | undefined;
    try {
      rows = await readSensors(conn, faults);
      return rows;
    } finally {
      if (rows) conn.release();
    }
  });
}
