// Correct: nested try/finally: the inner one counts the request, the outer one releases, once, on every path.
/**
 * Step 3: the handler behind GET /sensors — a correct attempt in another style than the solution's, kept so CI proves the
 * checkpoint accepts it.
 *
 * @module
 */
import { type FaultSchedule, readSensors } from "leak-lab/demo/fault_schedule.ts";
import type { TracedPool } from "leak-lab/pool.ts";

let served = 0;

/** The latest sensor readings, in their own `list_sensors` scope. */
export function listSensors(pool: TracedPool, faults: FaultSchedule): Promise<unknown[]> {
  return pool.scope("list_sensors", async () => {
    const conn = await pool.acquire();
    try {
      try {
        return await readSensors(conn, faults);
      } finally {
        served++;
      }
    } finally {
      conn.release();
    }
  });
}

/** How many requests were served, failed ones included. */
export function servedCount(): number {
  return served;
}
