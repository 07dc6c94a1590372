// Correct: a small withLease() helper owns acquire/try/finally/release for any callback and awaits the callback inside the try, so the handler body cannot forget the release or release too early.
import { type FaultSchedule, readSensors } from "leak-lab/demo/fault_schedule.ts";
import type { TracedPool } from "leak-lab/pool.ts";
import type { Lease } from "leak-lab/pool.ts";

async function withLease<T>(pool: TracedPool, use: (conn: Lease) => Promise<T>): Promise<T> {
  const conn = await pool.acquire();
  try {
    return await use(conn);
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
