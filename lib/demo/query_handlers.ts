/**
 * The original demo's two handlers, over the real pool. They run the same
 * query with the same scheduled failures; only the cleanup differs.
 *
 * @module
 */
import { type FaultSchedule, readSensors } from "./fault_schedule.ts";
import type { TracedPool } from "../pool.ts";

/**
 * `bad_query_with_leak`: returns the connection only when the query succeeds.
 * On the scheduled failure the connection is never given back.
 */
export function badQueryWithLeak(pool: TracedPool, faults: FaultSchedule): Promise<unknown[]> {
  return pool.scope("bad_query_with_leak", async () => {
    const conn = await pool.acquire();
    const rows = await readSensors(conn, faults);
    // simulate the bug: release() is reached only on success, so a failed
    // query leaves this connection out of the pool for good.
    conn.release();
    return rows;
  });
}

/** `good_query_no_leak`: the connection goes back on every path. */
export function goodQueryNoLeak(pool: TracedPool, faults: FaultSchedule): Promise<unknown[]> {
  return pool.scope("good_query_no_leak", async () => {
    const conn = await pool.acquire();
    try {
      return await readSensors(conn, faults);
    } finally {
      conn.release();
    }
  });
}
