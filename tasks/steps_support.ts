/**
 * The parts of `tasks/steps.ts` worth testing on their own: restoring a
 * step's starter from git, and explaining a checkpoint that never reached a
 * verdict.
 *
 * @module
 */
import { brokenExcerpt, type CheckpointRun } from "../lib/workshop/checkpoint_runner.ts";
import { REPO_ROOT, type WorkshopStep } from "../lib/workshop/steps.ts";

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
  const edit = `Edit workshop-steps/${step.id}/${step.files.join(", ")}`;
  if (run.outcome === "timeout") {
    return `✗ Step ${step.number}'s checkpoint did not finish in time (${Math.round(run.durationMs / 1000)} s). ` +
      `A request may be waiting for a connection that never comes back, or a loop may never end.\n\n${edit}\n` +
      `Stuck? \`deno task hint ${step.number}\`; start over: \`deno task reset-step ${step.number}\`.`;
  }
  const why = /\bTS2307\b|Module not found|Unable to load|Relative import path/i.test(run.output)
    ? "an import cannot be resolved (keep the starter's file names, imports and exports)"
    : /\bTS\d{4}\b/.test(run.output)
    ? "your code does not type-check"
    : /Leaks detected|is leaking|leaking async ops/i.test(run.output)
    ? "the test left work running after it ended (a timer, a socket, a pool never ended)"
    : "it crashed before reaching a verdict";
  return `✗ Step ${step.number}'s checkpoint could not run: ${why}.\n\n${brokenExcerpt(run.output)}\n\n${edit}\n` +
    `Stuck? \`deno task hint ${step.number}\`; start over: \`deno task reset-step ${step.number}\`.`;
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
