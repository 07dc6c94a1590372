// Mistake: releases in catch and again in finally: on the error path release() runs twice and replaces the real error.
// Expect: "released its connection twice"
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
      conn.release();
      throw error;
    } finally {
      conn.release();
    }
  });
}
