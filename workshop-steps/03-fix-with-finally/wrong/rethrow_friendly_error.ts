// Mistake: the catch rethrows a new, friendlier Error, so the request no longer fails with the real SQLSTATE 57014 (the new error has no code, only the message).
// Expect: "failed with Error: list_sensors failed"
import { type FaultSchedule, readSensors } from "leak-lab/demo/fault_schedule.ts";
import type { TracedPool } from "leak-lab/pool.ts";

/**
 * The latest sensor readings. One call is one request, run in its own
 * `list_sensors` scope so the pool can tell when it kept a connection.
 * When `faults` says so, the query fails (SQLSTATE 57014) and so does the request.
 */
export function listSensors(pool: TracedPool, faults: FaultSchedule): Promise<unknown[]> {
  return pool.scope("list_sensors", async () => {
    const conn = await pool.acquire();
    try {
      return await readSensors(conn, faults);
    } catch (error) {
      throw new Error(`list_sensors failed: ${error instanceof Error ? error.message : String(error)}`);
    } finally {
      conn.release();
    }
  });
}
