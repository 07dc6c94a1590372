/**
 * What a workshop checkpoint (`workshop-steps/NN-slug/checkpoint_test.ts`)
 * uses to fail in workshop words: what went wrong, the file to edit, and the
 * step's hint — instead of a bare `AssertionError` with two values.
 *
 * Each checkpoint test also appends one JSON line per test to the file named
 * by `LEAKLAB_CHECKPOINT_REPORT`, when set, so `deno task check` and CI read
 * the verdict without parsing `deno test` output.
 *
 * @example
 * ```ts ignore
 * import { type Checkpoint, checkpoint } from "../../lib/workshop/checkpoint.ts";
 * const step: Checkpoint = checkpoint({
 *   step: "03-fix-with-finally",
 *   edit: "list_sensors.ts",
 *   hint: new URL("./hint.md", import.meta.url),
 * });
 * Deno.test(step.test("listSensors() returns its connection when the query fails", async () => {
 *   step.expect(pool.stats().active === 0, () => `${pool.stats().active} connection(s) are still out.`);
 * }));
 * ```
 *
 * @module
 */
import { readHintFile } from "./steps.ts";

/** The environment variable naming the JSON-lines file checkpoint verdicts are appended to. */
export const REPORT_ENV = "LEAKLAB_CHECKPOINT_REPORT";

/** One checkpoint test's verdict, as appended to the report file. */
export interface CheckpointVerdict {
  step: string;
  test: string;
  passed: boolean;
  /** What went wrong, in workshop words (failures only). */
  problem?: string;
  /** The whole failure message: problem, file to edit, hint (failures only). */
  message?: string;
}

/** A checkpoint found the step unsolved; its message says what, where and how. */
export class CheckpointFailure extends Error {
  /** The step folder, e.g. "03-fix-with-finally". */
  readonly step: string;
  /** What went wrong, without the file and hint. */
  readonly problem: string;

  constructor(step: string, problem: string, message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = "CheckpointFailure";
    this.step = step;
    this.problem = problem;
  }
}

/** Options for {@linkcode checkpoint}. */
export interface CheckpointOptions {
  /** The step's folder name, `NN-slug`. @default none (required) */
  step: string;
  /** The file the learner edits, relative to the step folder. @default none (required) */
  edit: string;
  /** The step's `hint.md`, quoted in every failure. @default none (required) */
  hint: URL;
}

/** A step's checkpoint: registers tests and fails them in workshop words. */
export interface Checkpoint {
  readonly step: string;
  /** `workshop-steps/<step>/<edit>`: the file named in failures. */
  readonly file: string;
  /**
   * A test for `Deno.test(step.test(name, fn))`. Anything the learner's code
   * throws is turned into a {@linkcode CheckpointFailure} that still names the
   * file and the hint. (`Deno.test` is called in the checkpoint file so the
   * test report points there.)
   */
  test(name: string, fn: () => void | Promise<void>): Deno.TestDefinition;
  /** Throws a {@linkcode CheckpointFailure} unless `condition` holds; `problem` is built only then. */
  expect(condition: unknown, problem: string | (() => string)): asserts condition;
  /** Throws a {@linkcode CheckpointFailure} saying `problem`. */
  fail(problem: string, cause?: unknown): never;
}

const STEP_NAME = /^\d{2}-[a-z0-9-]+$/;

/**
 * Creates the checkpoint of one step.
 * @throws {RangeError} when `step` is not an `NN-slug` folder name or `edit` is empty
 */
export function checkpoint(options: CheckpointOptions): Checkpoint {
  if (!STEP_NAME.test(options.step)) {
    throw new RangeError(
      `Cannot create checkpoint as 'step' must be a step folder name like "03-fix-with-finally": current value is "${options.step}"`,
    );
  }
  if (!options.edit) throw new RangeError("Cannot create checkpoint as 'edit' must name the file the learner edits");
  const file = `workshop-steps/${options.step}/${options.edit}`;
  const hint = readHintFile(options.hint);

  const failure = (problem: string, cause?: unknown) =>
    new CheckpointFailure(
      options.step,
      problem,
      `Step ${options.step} is not solved yet.\n\n${indent(problem)}\n\nEdit ${file}\n\nHint:\n${indent(hint)}\n`,
      cause === undefined ? undefined : { cause },
    );

  const step: Checkpoint = {
    step: options.step,
    file,
    test(name, fn) {
      return {
        name,
        fn: async () => {
          try {
            await fn();
          } catch (error) {
            const reported = error instanceof CheckpointFailure ? error : failure(describeThrow(error, file), error);
            await appendVerdict({
              step: options.step,
              test: name,
              passed: false,
              problem: reported.problem,
              message: reported.message,
            });
            throw reported;
          }
          await appendVerdict({ step: options.step, test: name, passed: true });
        },
      };
    },
    expect(condition, problem) {
      if (!condition) throw failure(typeof problem === "function" ? problem() : problem);
    },
    fail(problem, cause) {
      throw failure(problem, cause);
    },
  };
  return step;
}

/** "Your code threw …" with the first stack frame inside the step's file, when there is one. */
function describeThrow(error: unknown, file: string): string {
  const text = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
  const base = file.split("/").pop()!;
  const frame = (error instanceof Error ? error.stack ?? "" : "")
    .split("\n")
    .find((line) => line.includes(`/${base}:`));
  return `The checkpoint stopped because this was thrown:\n  ${text}${
    frame ? `\n  ${frame.trim()}` : ""
  }\nYour code should let the checkpoint run to its end: it may throw only the errors the step's README lists.`;
}

function indent(text: string): string {
  return text.split("\n").map((line) => (line ? `  ${line}` : line)).join("\n");
}

async function appendVerdict(verdict: CheckpointVerdict): Promise<void> {
  const path = Deno.env.get(REPORT_ENV);
  if (!path) return;
  await Deno.writeTextFile(path, JSON.stringify(verdict) + "\n", { append: true });
}
