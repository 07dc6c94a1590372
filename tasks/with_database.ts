/**
 * Runs a command with DATABASE_URL pointing at a real Postgres: the one in
 * DATABASE_URL if set, otherwise an embedded server started for this run and
 * stopped afterwards. `deno task test` and `deno task notebooks` use it so
 * every test file and notebook kernel shares one server.
 *
 * Usage: deno run -A tasks/with_database.ts <command> [args...]
 */
import { openDatabaseOrExit } from "./open_database_or_exit.ts";

const [command, ...args] = Deno.args;
if (!command) {
  console.error("Usage: deno run -A tasks/with_database.ts <command> [args...]");
  Deno.exit(2);
}

const db = await openDatabaseOrExit();
console.error(`Postgres for this run: ${db.displayUrl} (${db.source})`);

const child = new Deno.Command(command, {
  args,
  env: { DATABASE_URL: db.url },
  stdin: "inherit",
  stdout: "inherit",
  stderr: "inherit",
}).spawn();
// The command gets the signal; the embedded Postgres (its own process group, so a Ctrl+C never reaches it) is
// stopped once the command has exited, or by its lifeline if this process dies first.
for (const signal of ["SIGINT", "SIGTERM", "SIGHUP"] as const) {
  Deno.addSignalListener(signal, () => child.kill(signal));
}
const status = await child.status;
await db.stop();
Deno.exit(status.code);
