/**
 * The self-paced workshop's commands, like rustlings:
 *
 *   deno task steps               list the steps: done / next / pending
 *   deno task check [N]           run step N's checkpoint (default: the next unfinished step)
 *   deno task hint [N]            print step N's hint (default: the next unfinished step)
 *   deno task reset-step N        restore step N's starter files from git (HEAD, or --ref <rev>)
 *
 * Progress is kept in .leaklab/progress.json (ignored by git). `check` runs
 * the checkpoint with `deno test` in a subprocess, against DATABASE_URL or an
 * embedded Postgres started for the run.
 *
 * Usage: deno run -A tasks/steps.ts list|check|hint|reset [N] [--ref <rev>]
 */
import { openDatabase } from "../lib/database.ts";
import { failureMessages, runCheckpoint } from "../lib/workshop/checkpoint_runner.ts";
import { loadProgress, markPassed, markPending, saveProgress, stepStatuses } from "../lib/workshop/progress.ts";
import { findStep, listSteps, readHint, REPO_ROOT, type WorkshopStep } from "../lib/workshop/steps.ts";
import { explainBroken, restoreStarter } from "./steps_support.ts";

const USAGE =
  "Usage: deno task steps | deno task check [N] | deno task hint [N] | deno task reset-step N [--ref <rev>]";

async function list(): Promise<number> {
  const steps = await listSteps();
  const statuses = await stepStatuses(steps, await loadProgress());
  const done = statuses.filter((s) => s.state === "done").length;
  console.log(`Leak Lab workshop — ${done} of ${steps.length} steps done\n`);
  for (const { step, state, editedSincePass } of statuses) {
    const mark = { done: "✓", next: "▶", pending: "·" }[state];
    const note = editedSincePass ? "  (passed before, edited since: re-check)" : "";
    console.log(`  ${mark} ${String(step.number).padStart(2)}  ${step.title.padEnd(58)} ${state}${note}`);
  }
  const next = statuses.find((s) => s.state === "next");
  console.log(
    next
      ? `\nNext: edit ${relative(next.step, next.step.files[0])}, then \`deno task check ${next.step.number}\` ` +
        `(stuck? \`deno task hint ${next.step.number}\`)`
      : `\nAll steps are done. Re-check any with \`deno task check N\`.`,
  );
  return 0;
}

async function check(arg: string | undefined): Promise<number> {
  const steps = await listSteps();
  let progress = await loadProgress();
  const step = arg ? findStep(steps, arg) : (await stepStatuses(steps, progress)).find((s) => s.state !== "done")?.step;
  if (!step) {
    console.log("All steps are done. Re-check one with `deno task check N`.");
    return 0;
  }
  const db = await openDatabase();
  console.log(`Checking step ${step.number}: ${step.title}  (Postgres: ${db.displayUrl}, ${db.source})\n`);
  let run;
  try {
    run = await runCheckpoint(step.checkpoint, { databaseUrl: db.url, cwd: REPO_ROOT });
  } finally {
    await db.stop();
  }

  if (run.outcome === "passed") {
    progress = await markPassed(progress, step);
    await saveProgress(progress);
    for (const verdict of run.verdicts) console.log(`  ✓ ${verdict.test}`);
    const next = (await stepStatuses(steps, progress)).find((s) => s.state === "next")?.step;
    console.log(`\n✓ Step ${step.number} passed (${(run.durationMs / 1000).toFixed(1)} s). Progress saved.`);
    console.log(
      next
        ? `Next: step ${next.number}, ${next.title} — read ${relative(next, "README.md")}, then \`deno task check\`.`
        : "That was the last step: every checkpoint passes. Well done.",
    );
    return 0;
  }

  await saveProgress(markPending(progress, step));
  if (run.outcome === "failed") {
    const [first, ...more] = failureMessages(run);
    for (const verdict of run.verdicts) console.log(`  ${verdict.passed ? "✓" : "✗"} ${verdict.test}`);
    console.log(`\n✗ ${first.trimEnd()}`);
    if (more.length) console.log(`\n(${more.length} more check(s) of this step failed; fix this one first.)`);
  } else {
    console.log(explainBroken(step, run));
  }
  return 1;
}

async function hint(arg: string | undefined): Promise<number> {
  const steps = await listSteps();
  const step = arg ? findStep(steps, arg) : nextOf(await stepStatuses(steps, await loadProgress()));
  console.log(`Hint for step ${step.number}, ${step.title} (edit ${relative(step, step.files[0])}):\n`);
  console.log(await readHint(step));
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
    console.log(`Restored ${relative(step, file)} from git ${ref}${backup ? ` (your version: ${backup})` : ""}.`);
  }
  console.log(`Step ${step.number} is pending again: \`deno task check ${step.number}\` should now fail.`);
  return 0;
}

function nextOf(statuses: { step: WorkshopStep; state: string }[]): WorkshopStep {
  return (statuses.find((s) => s.state === "next") ?? statuses[statuses.length - 1]).step;
}

function relative(step: WorkshopStep, file: string): string {
  return `workshop-steps/${step.id}/${file}`;
}

if (import.meta.main) {
  const args = [...Deno.args];
  const refAt = args.indexOf("--ref");
  const ref = refAt === -1 ? "HEAD" : args.splice(refAt, 2)[1] ?? "";
  const [command, arg, ...extra] = args;
  let code: number;
  try {
    if (extra.length > 0 || (refAt !== -1 && !ref)) {
      throw new RangeError(`Unexpected arguments: ${Deno.args.join(" ")}`);
    }
    switch (command) {
      case "list":
        code = await list();
        break;
      case "check":
        code = await check(arg);
        break;
      case "hint":
        code = await hint(arg);
        break;
      case "reset":
        code = await reset(arg, ref);
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
