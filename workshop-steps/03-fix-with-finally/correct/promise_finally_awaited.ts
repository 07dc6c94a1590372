// Correct: Promise.prototype.finally releases after the query promise settles, and the chained promise is the one awaited and returned, so the original rejection propagates and nothing is left unhandled.
import { type FaultSchedule, readSensors } from "leak-lab/demo/fault_schedule.ts";
import type { TracedPool } from "leak-lab/pool.ts";

/**
 * The latest sensor readings. One call is one request, run in its own
 * `list_sensors` scope so the pool can tell when it kept a connection.
 * When `faults` says so, the query fails (SQLSTATE 57014) and so does the request.
 */
export function listSensors(pool: TracedPool, faults: FaultSchedule): Promise<unknown[]> {
  return pool.scope(
    "list_sensors",
    () => pool.acquire().then((conn) => readSensors(conn, faults).finally(() => conn.release())),
  );
}
