/**
 * The self-paced workshop's commands, like rustlings:
 *
 *   deno task steps               list the steps: done / next / pending
 *   deno task check [N]           run step N's checkpoint (default: the next unfinished step); --verbose
 *                                 shows what your code printed even when it passes
 *   deno task hint [N]            the next hint of step N, one more each time (--all: every hint)
 *   deno task reset-step N        restore step N's starter files from git (HEAD, or --ref <rev>)
 *   deno task watch [N]           re-check on every save, move on when it passes (tasks/watch.ts)
 *
 * Progress (steps passed, hints seen) is kept in .leaklab/progress.json
 * (ignored by git). `check` runs the checkpoint with `deno test` in a
 * subprocess, against DATABASE_URL or an embedded Postgres started for the run.
 *
 * Usage: deno run -A tasks/steps.ts list|check|hint|reset [N] [--verbose] [--all] [--ref <rev>]
 */
import { loadProgress, markPending, saveProgress, stepStatuses } from "../lib/workshop/progress.ts";
import { findStep, listSteps, type WorkshopStep } from "../lib/workshop/steps.ts";
import { openDatabaseOrExit } from "./open_database_or_exit.ts";
import { checkStep, nextHints, pathOf, restoreStarter, stepToWorkOn, style } from "./steps_support.ts";

const USAGE = "Usage: deno task steps | deno task check [N] [--verbose] | deno task hint [N] [--all] | " +
  "deno task reset-step N [--ref <rev>] | deno task watch [N]";

async function list(): Promise<number> {
  const steps = await listSteps();
  const statuses = await stepStatuses(steps, await loadProgress());
  const done = statuses.filter((s) => s.state === "done").length;
  console.log(`Leak Lab workshop: ${done} of ${steps.length} steps done\n`);
  for (const { step, state, editedSincePass } of statuses) {
    const mark = { done: style.pass("✓"), next: style.bold("▶"), pending: "·" }[state];
    const note = editedSincePass ? "  (passed before, edited since: re-check)" : "";
    console.log(`  ${mark} ${step.label.padStart(2)}  ${step.title.padEnd(58)} ${state}${note}`);
  }
  const next = statuses.find((s) => s.state === "next");
  console.log(
    next
      ? `\nNext: edit ${pathOf(next.step, next.step.files[0])}, then \`deno task check ${next.step.label}\` ` +
        `(or \`deno task watch\`, which re-checks on every save; stuck? \`deno task hint ${next.step.label}\`)`
      : `\nAll steps are done. Re-check any with \`deno task check N\`.`,
  );
  return 0;
}

async function check(arg: string | undefined, verbose: boolean): Promise<number> {
  const steps = await listSteps();
  const step = await stepToWorkOn(steps, arg);
  if (!step) {
    console.log("All steps are done. Re-check one with `deno task check N`.");
    return 0;
  }
  const db = await openDatabaseOrExit();
  try {
    console.log(`Checking step ${step.label}: ${step.title}  (Postgres: ${db.displayUrl}, ${db.source})\n`);
    const result = await checkStep(steps, step, db, { verbose });
    console.log(result.text);
    return result.passed ? 0 : 1;
  } finally {
    await db.stop();
  }
}

async function hint(arg: string | undefined, all: boolean): Promise<number> {
  const steps = await listSteps();
  const progress = await loadProgress();
  const step = arg ? findStep(steps, arg) : nextOf(await stepStatuses(steps, progress));
  const shown = nextHints(step, progress, all);
  await saveProgress(shown.progress);
  console.log(shown.text);
  return 0;
}

async function reset(arg: string | undefined, ref: string): Promise<number> {
  if (!arg) {
    console.error(`Name the step to reset, e.g. \`deno task reset-step 3\`.\n${USAGE}`);
    return 2;
  }
  const steps = await listSteps();
  const step = findStep(steps, arg);
  const restored = await restoreStarter(step, ref);
  await saveProgress(markPending(await loadProgress(), step));
  for (const { file, backup } of restored) {
    console.log(`Restored ${pathOf(step, file)} from git ${ref}${backup ? ` (your version: ${backup})` : ""}.`);
  }
  console.log(`Step ${step.label} is pending again: \`deno task check ${step.label}\` should now fail.`);
  return 0;
}

function nextOf(statuses: { step: WorkshopStep; state: string }[]): WorkshopStep {
  return (statuses.find((s) => s.state === "next") ?? statuses[statuses.length - 1]).step;
}

/** Splits `--flag`s and `--ref <rev>` from the positional arguments. */
export function parseArgs(args: readonly string[]): { positional: string[]; flags: Set<string>; ref?: string } {
  const positional: string[] = [];
  const flags = new Set<string>();
  let ref: string | undefined;
  for (let i = 0; i < args.length; i++) {
    if (args[i] === "--ref") {
      ref = args[++i];
      if (!ref) throw new RangeError("--ref needs a git revision, e.g. `--ref origin/main`.");
    } else if (args[i].startsWith("--")) flags.add(args[i]);
    else positional.push(args[i]);
  }
  return { positional, flags, ref };
}

if (import.meta.main) {
  let code: number;
  try {
    const { positional: [command, arg, ...extra], flags, ref } = parseArgs(Deno.args);
    const allowed: Record<string, string[]> = { list: [], check: ["--verbose"], hint: ["--all"], reset: [] };
    const unknown = [...flags].filter((flag) => !allowed[command]?.includes(flag));
    if (extra.length > 0 || unknown.length > 0 || (ref !== undefined && command !== "reset")) {
      throw new RangeError(`Unexpected arguments: ${Deno.args.join(" ")}\n${USAGE}`);
    }
    switch (command) {
      case "list":
        code = await list();
        break;
      case "check":
        code = await check(arg, flags.has("--verbose"));
        break;
      case "hint":
        code = await hint(arg, flags.has("--all"));
        break;
      case "reset":
        code = await reset(arg, ref ?? "HEAD");
        break;
      default:
        console.error(USAGE);
        code = 2;
    }
  } catch (error) {
    console.error((error as Error).message);
    code = error instanceof RangeError ? 2 : 1;
  }
  Deno.exit(code);
}
