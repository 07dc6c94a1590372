/**
 * `deno task start`: reads the environment, starts the service, and on
 * Ctrl+C, SIGTERM or SIGHUP (the terminal closed) stops it — this process is
 * the one owner of shutdown: the server stops accepting, requests finish,
 * the pool ends, the embedded Postgres stops, traces flush, exit 0, all
 * within SHUTDOWN_BUDGET_MS. A startup failure prints one clear message, no
 * stack.
 *
 * @module
 */
import { readConfig } from "./config.ts";
import { type RunningService, startService } from "./server.ts";

/** Runs the service until a signal; returns the process exit code. */
export async function runService(): Promise<number> {
  // Listening before start-up: a Ctrl+C while the embedded Postgres starts stops it cleanly once it is up.
  const stopSignal = onStopSignal();
  let service: RunningService;
  try {
    service = await startService(readConfig());
  } catch (error) {
    console.error(`Leak Lab demo service did not start: ${error instanceof Error ? error.message : String(error)}`);
    return 1;
  }
  const signal = await stopSignal;
  console.log(`\n${signal}: stopping (finishing requests, ending the pool, stopping the database, flushing traces)…`);
  await service.close();
  console.log("Stopped.");
  return 0;
}

/** Resolves with the first stop signal; a second one exits at once (130). */
function onStopSignal(): Promise<Deno.Signal> {
  const { promise, resolve } = Promise.withResolvers<Deno.Signal>();
  const signals: Deno.Signal[] = Deno.build.os === "windows" ? ["SIGINT"] : ["SIGINT", "SIGTERM", "SIGHUP"];
  let received = 0;
  for (const signal of signals) {
    Deno.addSignalListener(signal, () => {
      // A second Ctrl+C means "now": skip the graceful stop. An embedded Postgres still stops: its lifeline sees
      // this process go.
      if (++received > 1) Deno.exit(130);
      resolve(signal);
    });
  }
  return promise;
}
