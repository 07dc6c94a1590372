/**
 * The self-paced workshop's steps: the `workshop-steps/NN-slug/` folders,
 * each with a README, the learner's file(s), a hint, a `solution/` and a
 * `checkpoint_test.ts`.
 *
 * @module
 */
import { fileURLToPath } from "node:url";

/** One step folder. */
export interface WorkshopStep {
  /** 1, 2, … from the folder's `NN-` prefix. */
  number: number;
  /** The folder name, e.g. "03-fix-with-finally". */
  id: string;
  /** From the README's first heading, without its "Step N —". */
  title: string;
  /** Absolute path of the step folder. */
  dir: string;
  /** The files the learner edits: the names in `solution/`, each with a starter beside the README. */
  files: string[];
  /** Absolute path of `checkpoint_test.ts`. */
  checkpoint: string;
}

const STEP_FOLDER = /^(\d{2})-[a-z0-9-]+$/;

/** The repository's root (the folder holding `workshop-steps/`). */
export const REPO_ROOT: string = fileURLToPath(new URL("../..", import.meta.url)).replace(/[\\/]$/, "");

/**
 * Reads every `NN-slug` folder under `workshop-steps/`, in order.
 * @throws {Error} naming the folder and the missing piece when a step is incomplete
 */
export async function listSteps(root = REPO_ROOT): Promise<WorkshopStep[]> {
  const base = `${root}/workshop-steps`;
  const steps: WorkshopStep[] = [];
  for await (const entry of Deno.readDir(base)) {
    const match = STEP_FOLDER.exec(entry.name);
    if (!entry.isDirectory || !match) continue; // dot-folders (temporary copies) and stray files
    const dir = `${base}/${entry.name}`;
    const readme = await readOrExplain(`${dir}/README.md`, entry.name);
    const files: string[] = [];
    for await (const solved of Deno.readDir(`${dir}/solution`)) if (solved.isFile) files.push(solved.name);
    for (const file of files) await readOrExplain(`${dir}/${file}`, entry.name);
    await readOrExplain(`${dir}/hint.md`, entry.name);
    await readOrExplain(`${dir}/checkpoint_test.ts`, entry.name);
    if (files.length === 0) throw new Error(`Step ${entry.name} has no files in solution/.`);
    steps.push({
      number: Number(match[1]),
      id: entry.name,
      title: (readme.match(/^#\s+(.*)$/m)?.[1] ?? entry.name).replace(/^Step\s+\d+\s*[—–-]\s*/, ""),
      dir,
      files: files.sort(),
      checkpoint: `${dir}/checkpoint_test.ts`,
    });
  }
  return steps.sort((a, b) => a.number - b.number);
}

/**
 * The step named by a learner's argument: "3", "03" or "03-fix-with-finally".
 * @throws {RangeError} listing the steps when none matches
 */
export function findStep(steps: readonly WorkshopStep[], arg: string): WorkshopStep {
  const found = /^\d+$/.test(arg) ? steps.find((s) => s.number === Number(arg)) : steps.find((s) => s.id === arg);
  if (found) return found;
  throw new RangeError(
    `There is no step "${arg}". Name a step by its number or folder: ${
      steps.map((s) => `${s.number} (${s.id})`).join(", ")
    }.`,
  );
}

/** The hint text of a step, without its heading. */
export function readHint(step: WorkshopStep): string {
  return readHintFile(`${step.dir}/hint.md`);
}

/**
 * A `hint.md` without its heading.
 * @throws {Error} naming the file when it cannot be read
 */
export function readHintFile(path: string | URL): string {
  try {
    return Deno.readTextFileSync(path).replace(/^#.*\n+/, "").trim();
  } catch (error) {
    const shown = path instanceof URL ? path.pathname : path;
    throw new Error(`Cannot read the step's hint at ${shown}: ${(error as Error).message}`, { cause: error });
  }
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
