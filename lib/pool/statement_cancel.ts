/**
 * Cancelling the statements of connections the pool takes back. Closing a
 * socket does not stop the statement its backend is running (a reclaimed
 * `pg_sleep(6)` stays `active` for the full six seconds), so the server
 * could carry more busy backends than the pool's `max`; asking each backend
 * to cancel ends that. A backend that is idle ignores the request.
 *
 * @module
 */
// @ts-types="@types/pg"
import pg from "pg";

/** Where to send the cancel requests from, and where to report trouble. */
export interface CancelTarget {
  /** The pool's own connection settings (same server, same role). */
  config: pg.ClientConfig;
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
 * await cancelStatements([4242], { config: { connectionString }, applicationName: "leak-lab:demo:reclaim", timeoutMs: 2000, log: console.warn });
 * ```
 */
export async function cancelStatements(pids: number[], target: CancelTarget): Promise<void> {
  try {
    const admin = new pg.Client({
      ...target.config,
      connectionTimeoutMillis: target.timeoutMs,
      application_name: target.applicationName,
    });
    admin.on("error", () => {}); // a server that drops it must fail the query, not kill the process
    await admin.connect().catch(async (error) => {
      await admin.end().catch(() => {});
      throw error;
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
