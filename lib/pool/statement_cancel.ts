/**
 * Cancelling the statements of connections the pool takes back. Closing a
 * socket does not stop the statement its backend is running (a reclaimed
 * `pg_sleep(6)` stays `active` for the full six seconds), so the server
 * could carry more busy backends than the pool's `max`; asking each backend
 * to cancel ends that. A backend that is idle ignores the request.
 *
 * @module
 */
import { connectClient } from "../postgres.ts";

/** Where to send the cancel requests from, and where to report trouble. */
export interface CancelTarget {
  /** The pool's connection URL (same server, same role). */
  connectionString: string;
  /** `application_name` of the short-lived connection that sends them. */
  applicationName: string;
  /** How long to wait for that connection. */
  timeoutMs: number;
  /** Receives a warning when cancelling fails; nothing is thrown. */
  log: (message: string) => void;
}

/**
 * Asks the backends `pids` to cancel what they run, over one short-lived
 * connection; never rejects.
 *
 * @example
 * ```ts ignore
 * import { cancelStatements } from "./statement_cancel.ts";
 * await cancelStatements([4242], { connectionString, applicationName: "leak-lab:demo:reclaim", timeoutMs: 2000, log: console.warn });
 * ```
 */
export async function cancelStatements(pids: number[], target: CancelTarget): Promise<void> {
  try {
    const admin = await connectClient(target.connectionString, {
      timeoutMs: target.timeoutMs,
      applicationName: target.applicationName,
    });
    try {
      await admin.query("SELECT pg_cancel_backend(pid) FROM unnest($1::int[]) AS pid", [pids]);
    } finally {
      await admin.end();
    }
  } catch (error) {
    target.log(
      `Reclaimed connections but could not cancel their statements (backend pids ${pids.join(", ")}): ` +
        `${error instanceof Error ? error.message : String(error)}`,
    );
  }
}
