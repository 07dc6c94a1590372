// Correct: a small withLease() helper owns acquire/try/finally and awaits the callback before releasing, so the handler cannot forget a path; it runs inside the list_sensors scope.
/**
 * Step 3: the handler behind GET /sensors, with the original demo's bug.
 *
 * @module
 */
import { type FaultSchedule, readSensors } from "leak-lab/demo/fault_schedule.ts";
import type { Lease, TracedPool } from "leak-lab/pool.ts";

/** Runs `fn` with a connection from `pool` and returns it afterwards, whatever `fn` did. */
async function withLease<T>(pool: TracedPool, fn: (conn: Lease) => Promise<T>): Promise<T> {
  const conn = await pool.acquire();
  try {
    return await fn(conn);
  } finally {
    conn.release();
  }
}

/**
 * The latest sensor readings. One call is one request, run in its own
 * `list_sensors` scope so the pool can tell when it kept a connection.
 * When `faults` says so, the query fails (SQLSTATE 57014) and so does the request.
 */
export function listSensors(pool: TracedPool, faults: FaultSchedule): Promise<unknown[]> {
  return pool.scope("list_sensors", () => withLease(pool, (conn) => readSensors(conn, faults)));
}
