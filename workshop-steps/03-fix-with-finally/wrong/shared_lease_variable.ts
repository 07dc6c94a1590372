// Mistake: the lease is kept in a variable every call shares: with requests at once, one request releases another's connection.
// Expect: "a connection it did not take"
/**
 * Step 3: the handler behind GET /sensors — a known-wrong attempt, kept so CI proves the checkpoint rejects it.
 *
 * @module
 */
import { type FaultSchedule, readSensors } from "leak-lab/demo/fault_schedule.ts";
import type { Lease, TracedPool } from "leak-lab/pool.ts";

/** The connection of the request in flight. */
let conn: Lease | undefined;

/** The latest sensor readings, in their own `list_sensors` scope. */
export function listSensors(pool: TracedPool, faults: FaultSchedule): Promise<unknown[]> {
  return pool.scope("list_sensors", async () => {
    try {
      conn = await pool.acquire();
      return await readSensors(conn, faults);
    } finally {
      conn?.release();
    }
  });
}
