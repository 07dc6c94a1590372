// Mistake: catches the error and returns it as the result: the request "succeeds" with an error object.
// Expect: "the error was caught and swallowed"
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
      return [error];
    } finally {
      conn.release();
    }
  });
}
