/**
 * The self-paced workshop's steps: the `workshop-steps/NN-slug/` folders,
 * each with a README, the learner's file, graduated hints, a `solution/`,
 * known-wrong attempts in `wrong/` and a `checkpoint_test.ts`. Adding a step
 * is adding a folder (see `workshop-steps/README.md`).
 *
 * @module
 */
import { fileURLToPath } from "node:url";

/** One step folder. */
export interface WorkshopStep {
  /**
   * What the learner types and reads: "3" for `03-…`, "4b" for `04b-…` (a step
   * inserted after 04 without renumbering the ones after it).
   */
  label: string;
  /** The folder name, e.g. "03-fix-with-finally". */
  id: string;
  /** From the README's first heading, without its "Step N —" (or "Step 4b —"). */
  title: string;
  /** Absolute path of the step folder. */
  dir: string;
  /** The files the learner edits: the names in `solution/`, each with a starter beside the README. */
  files: string[];
  /** Absolute path of `checkpoint_test.ts`. */
  checkpoint: string;
  /** The hints of `hints.md`, from a nudge to nearly the answer. */
  hints: string[];
  /** The known-wrong attempts in `wrong/` (file names, sorted); each is a whole version of the learner's file. */
  wrong: string[];
  /**
   * Correct attempts in `correct/` (file names, sorted): unusual styles that
   * must pass, so no checkpoint requires one way of writing the fix.
   */
  correct: string[];
}

/** One known-wrong attempt: what it gets wrong, and what its checkpoint failure must say. */
export interface WrongAttempt {
  /** The file name in `wrong/`. */
  name: string;
  /** From its `// Mistake: …` line. */
  mistake: string;
  /** From its `// Expect: "…"` line: a phrase the checkpoint's failure message must contain. */
  expect: string;
}

/** One correct attempt in an unusual style: it must pass its checkpoint. */
export interface CorrectAttempt {
  /** The file name in `correct/`. */
  name: string;
  /** From its `// Correct: …` line. */
  why: string;
}

/** `NN-slug`, or `NNx-slug` for a step inserted after NN. */
export const STEP_FOLDER: RegExp = /^(\d{2})([a-z]?)-[a-z0-9-]+$/;

/**
 * A step folder's label: "03-fix-with-finally" → "3", "04b-lint-rule" → "4b".
 * @throws {RangeError} when `id` is not a step folder name
 */
export function stepLabel(id: string): string {
  const match = STEP_FOLDER.exec(id);
  if (!match) {
    throw new RangeError(
      `"${id}" is not a step folder name: it must look like "03-fix-with-finally" or "04b-lint-rule"`,
    );
  }
  return `${Number(match[1])}${match[2]}`;
}

/** The repository's root (the folder holding `workshop-steps/`). */
export const REPO_ROOT: string = fileURLToPath(new URL("../..", import.meta.url)).replace(/[\\/]$/, "");

/** The steps folder: LEAKLAB_STEPS_DIR (tests point it at a copy), else `workshop-steps/` in the repository. */
export const STEPS_DIR: string = granted("env", "LEAKLAB_STEPS_DIR")
  ? Deno.env.get("LEAKLAB_STEPS_DIR") ?? `${REPO_ROOT}/workshop-steps`
  : `${REPO_ROOT}/workshop-steps`; // a checkpoint run without -A explains itself (see checkpoint())

function granted(name: "env", variable: string): boolean {
  return Deno.permissions.querySync({ name, variable }).state === "granted";
}

/**
 * Reads every `NN-slug` folder of `stepsDir`, in order.
 * @throws {Error} naming the folder and the missing piece when a step is incomplete
 */
export async function listSteps(stepsDir = STEPS_DIR): Promise<WorkshopStep[]> {
  const steps: WorkshopStep[] = [];
  for await (const entry of Deno.readDir(stepsDir)) {
    if (!entry.isDirectory || !STEP_FOLDER.test(entry.name)) continue; // dot-folders (temporary copies) and strays
    const dir = `${stepsDir}/${entry.name}`;
    const readme = await readOrExplain(`${dir}/README.md`, entry.name);
    const files = await fileNames(`${dir}/solution`);
    if (files.length === 0) throw new Error(`Step ${entry.name} is incomplete: it has no files in solution/.`);
    for (const file of files) await readOrExplain(`${dir}/${file}`, entry.name);
    const hints = parseHints(await readOrExplain(`${dir}/hints.md`, entry.name));
    if (hints.length === 0) {
      throw new Error(`Step ${entry.name} is incomplete: hints.md has no "## Hint 1" section.`);
    }
    await readOrExplain(`${dir}/checkpoint_test.ts`, entry.name);
    steps.push({
      label: stepLabel(entry.name),
      id: entry.name,
      title: (readme.match(/^#\s+(.*)$/m)?.[1] ?? entry.name).replace(/^Step\s+\d+[a-z]?\s*[—–-]\s*/, ""),
      dir,
      files,
      checkpoint: `${dir}/checkpoint_test.ts`,
      hints,
      wrong: (await fileNames(`${dir}/wrong`).catch(() => [])).filter((name) => name.endsWith(".ts")),
      correct: (await fileNames(`${dir}/correct`).catch(() => [])).filter((name) => name.endsWith(".ts")),
    });
  }
  return steps.sort((a, b) => (a.id < b.id ? -1 : 1)); // "04-…" < "04b-…" < "05-…"
}

/**
 * The step named by a learner's argument: "3", "03", "4b" or "03-fix-with-finally".
 * @throws {RangeError} listing the steps when none matches
 */
export function findStep(steps: readonly WorkshopStep[], arg: string): WorkshopStep {
  const short = /^(\d+)([a-z]?)$/i.exec(arg);
  const label = short ? `${Number(short[1])}${short[2].toLowerCase()}` : undefined;
  const found = steps.find((s) => s.id === arg || s.label === label);
  if (found) return found;
  throw new RangeError(
    `There is no step "${arg}". Name a step by its number or folder: ${
      steps.map((s) => `${s.label} (${s.id})`).join(", ")
    }.`,
  );
}

/**
 * The hints of a `hints.md`: the text under each `## Hint N` heading, in order.
 *
 * @example
 * ```ts
 * import { parseHints } from "./steps.ts";
 * const hints = parseHints("# Hints\n\n## Hint 1\n\nLook.\n\n## Hint 2\n\nLook closer.\n");
 * console.log(hints); // ["Look.", "Look closer."]
 * ```
 */
export function parseHints(markdown: string): string[] {
  return markdown.split(/^## Hint \d+[^\n]*$/m).slice(1).map((text) => text.trim()).filter(Boolean);
}

/**
 * What a `wrong/*.ts` file says about itself in its first lines:
 * `// Mistake: …` and `// Expect: "…"`.
 * @throws {Error} naming the file when either line is missing
 */
export async function readWrongAttempt(step: WorkshopStep, name: string): Promise<WrongAttempt> {
  const text = await Deno.readTextFile(`${step.dir}/wrong/${name}`);
  const mistake = text.match(/^\/\/ Mistake: (.+)$/m)?.[1]?.trim();
  const expect = text.match(/^\/\/ Expect: "(.+)"$/m)?.[1];
  if (!mistake || !expect) {
    throw new Error(
      `workshop-steps/${step.id}/wrong/${name} must start with a "// Mistake: …" line naming the mistake and a ` +
        `"// Expect: "…"" line quoting what the checkpoint's failure says about it.`,
    );
  }
  return { name, mistake, expect };
}

/**
 * What a `correct/*.ts` file says about itself: its `// Correct: …` line,
 * why it is right although it is not the solution's style.
 * @throws {Error} naming the file when the line is missing
 */
export async function readCorrectAttempt(step: WorkshopStep, name: string): Promise<CorrectAttempt> {
  const text = await Deno.readTextFile(`${step.dir}/correct/${name}`);
  const why = text.match(/^\/\/ Correct: (.+)$/m)?.[1]?.trim();
  if (!why) {
    throw new Error(
      `workshop-steps/${step.id}/correct/${name} must start with a "// Correct: …" line saying why it is right.`,
    );
  }
  return { name, why };
}

async function fileNames(dir: string): Promise<string[]> {
  const names: string[] = [];
  for await (const entry of Deno.readDir(dir)) if (entry.isFile) names.push(entry.name);
  return names.sort();
}

async function readOrExplain(path: string, step: string): Promise<string> {
  try {
    return await Deno.readTextFile(path);
  } catch (error) {
    throw new Error(
      `Step ${step} is incomplete: ${path.slice(path.lastIndexOf(step))} cannot be read (${(error as Error).message}).`,
      { cause: error },
    );
  }
}
