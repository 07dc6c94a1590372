/**
 * What `deno task check`, `hint`, `reset-step` and `watch` share, and the
 * parts worth testing on their own: running a step's checkpoint and saying
 * how it went (with what the learner's code printed), graduated hints,
 * restoring a step's starter from git, explaining a checkpoint that never
 * reached a verdict.
 *
 * @module
 */
import type { Database } from "../lib/database.ts";
import { failureMessage, seedLine } from "../lib/workshop/checkpoint.ts";
import {
  brokenExcerpt,
  type CheckpointRun,
  failureMessages,
  runCheckpoint,
} from "../lib/workshop/checkpoint_runner.ts";
import {
  hintsSeen,
  loadProgress,
  markHintsSeen,
  markPassed,
  markPending,
  type Progress,
  saveProgress,
  stepStatuses,
} from "../lib/workshop/progress.ts";
import { findStep, REPO_ROOT, type WorkshopStep } from "../lib/workshop/steps.ts";

/** Colours only for a terminal, and never with NO_COLOR set. */
const COLOUR = Deno.stdout.isTerminal() && !Deno.noColor;
const paint = (code: string) => (text: string) => COLOUR ? `\x1b[${code}m${text}\x1b[0m` : text;
/** Green, red, dim and bold, or the text as it is when colours are off. */
export const style = { pass: paint("32"), fail: paint("31"), dim: paint("2"), bold: paint("1") };

/** A step's file as the learner types it: relative to the repository root. */
export function pathOf(step: WorkshopStep, file: string): string {
  const path = `${step.dir}/${file}`;
  return path.startsWith(`${REPO_ROOT}/`) ? path.slice(REPO_ROOT.length + 1) : path;
}

/** The step a command works on: the one named by `arg`, else the first not done (none when all are done). */
export async function stepToWorkOn(
  steps: readonly WorkshopStep[],
  arg: string | undefined,
): Promise<WorkshopStep | undefined> {
  if (arg) return findStep(steps, arg);
  return (await stepStatuses(steps, await loadProgress())).find((s) => s.state !== "done")?.step;
}

/** How the learner asks for the next hint: the command, or (in `deno task watch`) the key. */
export type HintAsk = "command" | "key";

/** "Stuck? `deno task hint 3` shows hint 2 of 3." — how to get the first hint not seen yet, never a hint. */
export function hintLine(step: WorkshopStep, progress: Progress, ask: HintAsk = "command"): string {
  const seen = hintsSeen(progress, step);
  const total = step.hints.length;
  const how = ask === "key" ? "Press h for" : `\`deno task hint ${step.label}\` shows`;
  return seen < total
    ? `Stuck? ${how} hint ${seen + 1} of ${total}.`
    : `You have seen all ${total} hints (\`deno task hint ${step.label} --all\` shows them again); ` +
      `${pathOf(step, "solution/")} holds a reference solution.`;
}

/** The hints to show for `deno task hint`: the next unseen one (or the last, once all are seen), or all. */
export function nextHints(
  step: WorkshopStep,
  progress: Progress,
  all: boolean,
  ask: HintAsk = "command",
): { text: string; progress: Progress } {
  const total = step.hints.length;
  const header = (n: number) => `Hint ${n} of ${total} for step ${step.label}, ${step.title}:`;
  const body = (n: number) => step.hints[n - 1].split("\n").map((line) => (line ? `  ${line}` : line)).join("\n");
  if (all) {
    const text = step.hints.map((_, i) => `${header(i + 1)}\n\n${body(i + 1)}`).join("\n\n");
    return { text: `${text}\n\nEdit ${pathOf(step, step.files[0])}.`, progress: markHintsSeen(progress, step, total) };
  }
  const seen = hintsSeen(progress, step);
  const n = Math.min(seen + 1, total);
  const again = ask === "key" ? "Press h again" : `Run \`deno task hint ${step.label}\` again`;
  const footer = n < total
    ? `Still stuck? ${again} for hint ${n + 1} of ${total}.`
    : seen >= total
    ? `That was the last of ${total} hints; \`deno task hint ${step.label} --all\` shows them all.`
    : `That was the last hint. ${pathOf(step, "solution/")} holds a reference solution, if you need it.`;
  return {
    text: `${header(n)}\n\n${body(n)}\n\nEdit ${pathOf(step, step.files[0])}. ${footer}`,
    progress: markHintsSeen(progress, step, n),
  };
}

/** How one `deno task check` ended, and what to print. */
export interface CheckResult {
  passed: boolean;
  /** Everything to print, verdict last. */
  text: string;
  /** The step to work on next (after a pass), if any. */
  next?: WorkshopStep;
}

/** Options for {@linkcode checkStep}. */
export interface CheckStepOptions {
  /** Show what the learner's code printed even when the check passed. @default false */
  verbose?: boolean;
  /** Stops the checkpoint run (watch mode quitting). @default none */
  signal?: AbortSignal;
  /** How a failure says to get the next hint. @default "command" */
  ask?: HintAsk;
}

/**
 * Runs a step's checkpoint against `db`, records the result in the progress
 * file (passed with the files' fingerprints, or pending again) and says how
 * it went.
 */
export async function checkStep(
  steps: readonly WorkshopStep[],
  step: WorkshopStep,
  db: Pick<Database, "url">,
  options: CheckStepOptions = {},
): Promise<CheckResult> {
  const run = await runCheckpoint(step.checkpoint, { databaseUrl: db.url, cwd: REPO_ROOT, signal: options.signal });
  let progress = await loadProgress();
  if (run.outcome === "passed") {
    progress = await markPassed(progress, step);
    await saveProgress(progress);
    const next = (await stepStatuses(steps, progress)).find((s) => s.state === "next")?.step;
    return { passed: true, text: describeRun(step, run, progress, options, next), next };
  }
  progress = markPending(progress, step);
  await saveProgress(progress);
  return { passed: false, text: describeRun(step, run, progress, options) };
}

/** The report of one checkpoint run, as `deno task check` prints it. */
export function describeRun(
  step: WorkshopStep,
  run: CheckpointRun,
  progress: Progress,
  options: Pick<CheckStepOptions, "verbose" | "ask"> = {},
  next?: WorkshopStep,
): string {
  const verbose = options.verbose ?? false;
  const lines: string[] = [];
  for (const verdict of run.verdicts) {
    lines.push(`  ${verdict.passed ? style.pass("✓") : style.fail("✗")} ${verdict.test}`);
  }
  const printing = run.verdicts.filter((verdict) => verdict.output.length > 0);
  if (printing.length > 0 && (verbose || run.outcome !== "passed")) {
    const sections = printing.map((verdict) => ({
      test: printing.length > 1 ? verdict.test : undefined,
      lines: verdict.output,
    }));
    lines.push("", learnerOutput(sections, verbose ? Infinity : MAX_PRINTED_LINES));
  }
  if (run.outcome === "passed") {
    lines.push(
      "",
      style.pass(`✓ Step ${step.label} passed (${(run.durationMs / 1000).toFixed(1)} s). Progress saved.`),
      next
        ? `Next: step ${next.label}, ${next.title}: read ${pathOf(next, "README.md")}, then \`deno task check\`.`
        : "That was the last step: every checkpoint passes. Well done.",
    );
  } else if (run.outcome === "failed") {
    const failed = run.verdicts.filter((v) => !v.passed);
    const message = failureMessage({
      label: step.label,
      problem: failed[0].problem ?? failureMessages(run)[0],
      file: pathOf(step, step.files[0]),
      hint: hintLine(step, progress, options.ask),
      seed: failed[0].seed === undefined ? undefined : seedLine(failed[0].seed, step.label),
    });
    lines.push("", `${style.fail("✗")} ${message.trimEnd()}`);
    if (failed.length > 1) {
      lines.push(`\n(${failed.length - 1} more check(s) of this step failed; fix this one first.)`);
    }
  } else if (run.outcome === "setup") {
    const problem = run.verdicts.find((v) => v.setup)?.problem ?? "";
    lines.push("", `${style.fail("✗")} Step ${step.label}'s checkpoint could not run. ${problem}`);
  } else {
    lines.push("", explainBroken(step, run));
  }
  return lines.join("\n");
}

/** How many lines of the learner's output a check shows (`--verbose`: all). */
const MAX_PRINTED_LINES = 40;

/**
 * What the learner's code printed, framed so it cannot be mistaken for the
 * checkpoint's verdict: one section per test when several printed.
 */
export function learnerOutput(
  sections: readonly { test?: string; lines: readonly string[] }[],
  maxLines = Infinity,
): string {
  const rule = "─".repeat(60);
  const body: string[] = [];
  let total = 0;
  for (const section of sections) {
    if (section.test) body.push(style.dim(`│ (while: ${section.test})`));
    for (const line of section.lines.flatMap((entry) => entry.split("\n"))) {
      if (total++ < maxLines) body.push(`${style.dim("│")} ${line}`);
    }
  }
  if (total > maxLines) body.push(style.dim(`│ … ${total - maxLines} more line(s): \`--verbose\` shows them all`));
  return [style.dim(`┌ What your code printed ${rule.slice(24)}`), ...body, style.dim(`└${rule}`)].join("\n");
}

/** A starter file put back, and where the learner's version was saved (when it differed). */
export interface Restored {
  file: string;
  backup?: string;
}

/**
 * Puts the step's starter files back as committed at `ref` (`git show
 * <ref>:<path>`), which works in any clone. The learner's versions are saved
 * under `.leaklab/backup/` first. Nothing is written unless every file can be
 * read from git.
 * @throws {Error} saying what to do when git is missing, this is not a clone, or a file is not committed at `ref`
 */
export async function restoreStarter(step: WorkshopStep, ref = "HEAD", root = REPO_ROOT): Promise<Restored[]> {
  const folder = step.dir.slice(root.length + 1);
  const pristine = new Map<string, Uint8Array>();
  for (const file of step.files) pristine.set(file, await gitShow(root, ref, `${folder}/${file}`));

  const stamp = new Date().toISOString().replace(/[:.]/g, "-");
  const restored: Restored[] = [];
  for (const [file, content] of pristine) {
    const path = `${step.dir}/${file}`;
    const current = await Deno.readFile(path).catch(() => undefined);
    let backup: string | undefined;
    if (current && !sameBytes(current, content)) {
      backup = `.leaklab/backup/${step.id}/${stamp}-${file}`;
      await Deno.mkdir(`${root}/.leaklab/backup/${step.id}`, { recursive: true });
      await Deno.writeFile(`${root}/${backup}`, current);
    }
    await Deno.writeFile(path, content);
    restored.push({ file, ...(backup ? { backup } : {}) });
  }
  return restored;
}

/** What to tell the learner when a checkpoint ran out of time or never reached a verdict. */
export function explainBroken(step: WorkshopStep, run: CheckpointRun): string {
  const edit = `Edit ${step.files.map((file) => pathOf(step, file)).join(", ")}`;
  if (run.outcome === "timeout") {
    return `✗ Step ${step.label}'s checkpoint did not finish in time (${Math.round(run.durationMs / 1000)} s). ` +
      `A request may be waiting for a connection that never comes back, or a loop may never end.\n\n${edit}\n` +
      `Stuck? \`deno task hint ${step.label}\`; start over: \`deno task reset-step ${step.label}\`.`;
  }
  const why = /\bTS2307\b|Module not found|Unable to load|Relative import path/i.test(run.output)
    ? "an import cannot be resolved (keep the starter's file names, imports and exports)"
    : /\bTS\d{4}\b/.test(run.output)
    ? "your code does not type-check"
    : /Leaks detected|is leaking|leaking async ops/i.test(run.output)
    ? "the test left work running after it ended (a timer, a socket, a pool never ended)"
    : "it crashed before reaching a verdict";
  return `✗ Step ${step.label}'s checkpoint could not run: ${why}.\n\n${brokenExcerpt(run.output)}\n\n${edit}\n` +
    `Stuck? \`deno task hint ${step.label}\`; start over: \`deno task reset-step ${step.label}\`.`;
}

async function gitShow(root: string, ref: string, path: string): Promise<Uint8Array> {
  let result: Deno.CommandOutput;
  try {
    result = await new Deno.Command("git", {
      args: ["-C", root, "show", `${ref}:${path}`],
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
    }).output();
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) {
      throw new Error(
        "reset-step restores starters from git (`git show HEAD:<path>`), but git is not installed. Install git, " +
          `or download ${path} again from the repository.`,
      );
    }
    throw error;
  }
  if (result.success) return result.stdout;
  const stderr = new TextDecoder().decode(result.stderr).trim();
  if (/not a git repository/i.test(stderr)) {
    throw new Error(
      `reset-step restores starters from git, but ${root} is not a git clone. Clone the repository, or download ` +
        `${path} again.`,
    );
  }
  throw new Error(
    `Cannot restore ${path}: git has no such file at "${ref}" (${stderr}). A step added since that commit has ` +
      "nothing to restore yet. If you committed your work over the starter, name a commit before it: " +
      "`deno task reset-step N --ref <commit>` (e.g. origin/main).",
  );
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && a.every((byte, i) => byte === b[i]);
}
