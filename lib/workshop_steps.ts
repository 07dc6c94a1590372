/**
 * The self-paced workshop's steps (`workshop-steps/NN-slug/`) and the
 * learner's progress through them (`.leaklab/progress.json`, ignored by git).
 *
 * A step is done when its checkpoint passed and its files are unchanged
 * since: editing a solved step makes it pending again until it is re-checked.
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

/** What `.leaklab/progress.json` holds. */
export interface Progress {
  version: 1;
  /** Passed steps: when, and the SHA-256 of each edited file at that moment. */
  passed: Record<string, { at: string; files: Record<string, string> }>;
}

/** Where a step stands for the learner. */
export interface StepStatus {
  step: WorkshopStep;
  state: "done" | "next" | "pending";
  /** Passed once, but its files changed since. */
  editedSincePass: boolean;
}

const STEP_FOLDER = /^(\d{2})-[a-z0-9-]+$/;

/** The repository's root (the folder holding `workshop-steps/`). */
export const REPO_ROOT: string = fileURLToPath(new URL("..", import.meta.url)).replace(/[\\/]$/, "");

/** The progress file: LEAKLAB_PROGRESS_FILE (tests use it), else `.leaklab/progress.json` in the repository. */
export const PROGRESS_FILE: string = Deno.env.get("LEAKLAB_PROGRESS_FILE") ?? `${REPO_ROOT}/.leaklab/progress.json`;

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
export async function readHint(step: WorkshopStep): Promise<string> {
  return (await Deno.readTextFile(`${step.dir}/hint.md`)).replace(/^#.*\n+/, "").trim();
}

/** SHA-256 of each of the step's edited files, as they are now. */
export async function fingerprint(step: WorkshopStep): Promise<Record<string, string>> {
  const hashes: Record<string, string> = {};
  for (const file of step.files) {
    const bytes = await Deno.readFile(`${step.dir}/${file}`);
    const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", bytes));
    hashes[file] = Array.from(digest, (byte) => byte.toString(16).padStart(2, "0")).join("");
  }
  return hashes;
}

/**
 * Reads the progress file; a missing one is an empty progress.
 * @throws {Error} naming the file when it is not valid progress JSON
 */
export async function loadProgress(file = PROGRESS_FILE): Promise<Progress> {
  let text: string;
  try {
    text = await Deno.readTextFile(file);
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return { version: 1, passed: {} };
    throw error;
  }
  try {
    const parsed = JSON.parse(text);
    if (parsed?.version !== 1 || typeof parsed.passed !== "object" || parsed.passed === null) throw new Error();
    return parsed as Progress;
  } catch {
    throw new Error(
      `${file} is not Leak Lab progress (expected {"version": 1, "passed": {…}}). Delete it to start the ` +
        `progress over; your step files are not touched.`,
    );
  }
}

/** Writes the progress file (creating `.leaklab/`), atomically. */
export async function saveProgress(progress: Progress, file = PROGRESS_FILE): Promise<void> {
  await Deno.mkdir(file.replace(/\/[^/]+$/, ""), { recursive: true });
  const temporary = `${file}.${crypto.randomUUID().slice(0, 8)}.tmp`;
  await Deno.writeTextFile(temporary, JSON.stringify(progress, null, 2) + "\n");
  await Deno.rename(temporary, file);
}

/** Records that `step` passed with its files as they are now. */
export async function markPassed(progress: Progress, step: WorkshopStep, at = new Date()): Promise<Progress> {
  return {
    ...progress,
    passed: { ...progress.passed, [step.id]: { at: at.toISOString(), files: await fingerprint(step) } },
  };
}

/** Forgets that `step` passed. */
export function markPending(progress: Progress, step: WorkshopStep): Progress {
  const { [step.id]: _forgotten, ...passed } = progress.passed;
  return { ...progress, passed };
}

/** Done / next / pending for each step: done = passed with the same files; next = the first not done. */
export async function stepStatuses(steps: readonly WorkshopStep[], progress: Progress): Promise<StepStatus[]> {
  const statuses: StepStatus[] = [];
  let nextGiven = false;
  for (const step of steps) {
    const record = progress.passed[step.id];
    const current = record ? await fingerprint(step) : undefined;
    const unchanged = record !== undefined && step.files.every((file) => record.files[file] === current![file]);
    const state = unchanged ? "done" : nextGiven ? "pending" : "next";
    if (state === "next") nextGiven = true;
    statuses.push({ step, state, editedSincePass: record !== undefined && !unchanged });
  }
  return statuses;
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
