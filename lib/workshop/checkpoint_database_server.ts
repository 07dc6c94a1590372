/**
 * The embedded PostgreSQL of one `deno test` process, run beside it.
 *
 * `deno test` gives every test file its own isolate, and kills the child
 * processes of a file when that file's tests end; a server started in the
 * first checkpoint file would die before the second one ran. So the first
 * checkpoint file starts this script as a detached process
 * (`lib/workshop/checkpoint_database.ts` does it): it starts the server with
 * `openDatabase()`, prints one JSON line (`{"url": …}` or `{"error": …}`),
 * then watches its parent. When the test process exits — passed, failed,
 * Ctrl+C or killed — it stops the server and removes its data directory.
 *
 * Usage: deno run -A lib/workshop/checkpoint_database_server.ts
 *
 * @module
 */
import { type Database, openDatabase } from "../database.ts";

/** What the first line on stdout holds. */
export type ServerAnnouncement = { url: string; displayUrl: string } | { error: string };

/** How often the parent is looked for: the delay between the test process' exit and the server's stop. */
export const PARENT_POLL_MS = 25;

if (import.meta.main) {
  const parent = Deno.ppid;
  const say = async (line: ServerAnnouncement) => {
    await Deno.stdout.write(new TextEncoder().encode(JSON.stringify(line) + "\n"));
  };
  let db: Database;
  try {
    db = await openDatabase(); // the spawner removed DATABASE_URL: this is the embedded server
  } catch (error) {
    await say({ error: error instanceof Error ? error.message : String(error) });
    Deno.exit(1);
  }
  let stopping: Promise<never> | undefined;
  const stop = () =>
    stopping ??= (async () => {
      await db.stop().catch(() => {});
      Deno.exit(0);
    })();
  for (const signal of ["SIGINT", "SIGTERM", "SIGHUP"] as const) Deno.addSignalListener(signal, stop);
  await say({ url: db.url, displayUrl: db.displayUrl });
  // A detached child is re-parented when its parent exits: that is the signal to stop.
  while (Deno.ppid === parent) await new Promise((resolve) => setTimeout(resolve, PARENT_POLL_MS));
  await stop();
}
