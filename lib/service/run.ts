/**
 * `deno task start`: reads the environment, starts the service, and on
 * Ctrl+C or SIGTERM stops serving, ends the pool, flushes traces and stops
 * the embedded Postgres. A startup failure prints one clear message, no
 * stack.
 *
 * @module
 */
import { readConfig } from "./config.ts";
import { type RunningService, startService } from "./server.ts";

/** Runs the service until a signal; returns the process exit code. */
export async function runService(): Promise<number> {
  let service: RunningService;
  try {
    service = await startService(readConfig());
  } catch (error) {
    console.error(`Leak Lab demo service did not start: ${error instanceof Error ? error.message : String(error)}`);
    return 1;
  }
  const { promise: stopped, resolve: stop } = Promise.withResolvers<Deno.Signal>();
  const signals: Deno.Signal[] = Deno.build.os === "windows" ? ["SIGINT"] : ["SIGINT", "SIGTERM"];
  let received = 0;
  for (const signal of signals) {
    Deno.addSignalListener(signal, () => {
      // A second Ctrl+C means "now": skip the graceful stop.
      if (++received > 1) Deno.exit(130);
      stop(signal);
    });
  }
  const signal = await stopped;
  console.log(`\n${signal}: stopping (finishing requests, ending the pool, flushing traces)…`);
  await service.close();
  console.log("Stopped.");
  return 0;
}
