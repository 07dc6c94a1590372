// Mistake: rethrows a hand-made copy of the error (message and code only), replacing the real Postgres DatabaseError with a plain Error that loses its class, severity, details and stack.
// Expect: "but not with the error its query raised"
/**
 * Step 3: the handler behind GET /sensors, with the original demo's bug.
 *
 * @module
 */
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
      const { message, code } = error as { message: string; code?: string };
      throw Object.assign(new Error(`list_sensors: ${message}`), { code });
    } finally {
      conn.release();
    }
  });
}
