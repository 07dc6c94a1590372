/**
 * The learner's progress through the workshop steps, kept in
 * `.leaklab/progress.json` (ignored by git).
 *
 * A step is done when its checkpoint passed and its files are unchanged
 * since: editing a solved step makes it pending again until it is re-checked.
 * It also remembers how many of each step's hints the learner has seen, so
 * `deno task hint` gives the next one each time.
 *
 * @module
 */
import { REPO_ROOT, type WorkshopStep } from "./steps.ts";

/** What `.leaklab/progress.json` holds. */
export interface Progress {
  version: 1;
  /** Passed steps: when, and the SHA-256 of each edited file at that moment. */
  passed: Record<string, { at: string; files: Record<string, string> }>;
  /** How many hints of each step the learner has been shown (absent: none). */
  hintsSeen?: Record<string, number>;
}

/** Where a step stands for the learner. */
export interface StepStatus {
  step: WorkshopStep;
  state: "done" | "next" | "pending";
  /** Passed once, but its files changed since. */
  editedSincePass: boolean;
}

/** The progress file: LEAKLAB_PROGRESS_FILE (tests use it), else `.leaklab/progress.json` in the repository. */
export const PROGRESS_FILE: string = Deno.env.get("LEAKLAB_PROGRESS_FILE") ?? `${REPO_ROOT}/.leaklab/progress.json`;

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
    const seen = parsed.hintsSeen ?? {};
    if (typeof seen !== "object" || Object.values(seen).some((n) => !Number.isInteger(n) || (n as number) < 0)) {
      throw new Error();
    }
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

/** How many of `step`'s hints the learner has seen. */
export function hintsSeen(progress: Progress, step: WorkshopStep): number {
  return Math.min(progress.hintsSeen?.[step.id] ?? 0, step.hints.length);
}

/** Records that the learner has now seen `count` of `step`'s hints (never fewer than before). */
export function markHintsSeen(progress: Progress, step: WorkshopStep, count: number): Progress {
  const seen = Math.max(hintsSeen(progress, step), Math.min(count, step.hints.length));
  return { ...progress, hintsSeen: { ...progress.hintsSeen, [step.id]: seen } };
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
