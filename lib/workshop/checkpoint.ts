/**
 * What a workshop checkpoint (`workshop-steps/NN-slug/checkpoint_test.ts`)
 * uses to fail in workshop words: what went wrong, the file to edit, and the
 * command that gives the next hint — never the answer itself.
 *
 * A checkpoint runs under plain `deno test` (a step folder, the whole
 * `workshop-steps/`, an editor's test button) as well as under `deno task
 * check`: `checkpoint()` prepares the database before the tests (see
 * `checkpoint_database.ts`), and every test runs with the op and resource
 * sanitizers on.
 *
 * Each checkpoint test also appends one JSON line per test to the file named
 * by `LEAKLAB_CHECKPOINT_REPORT`, when set, so `deno task check` and CI read
 * the verdict — and what the learner's code printed — without parsing
 * `deno test` output.
 *
 * @example
 * ```ts ignore
 * import { type Checkpoint, checkpoint } from "leak-lab/workshop/checkpoint.ts";
 * const step: Checkpoint = checkpoint({ step: "03-fix-with-finally", edit: "list_sensors.ts" });
 * Deno.test(step.test("listSensors() returns its connection when the query fails", async () => {
 *   step.expect(pool.stats().active === 0, () => `${pool.stats().active} connection(s) are still out.`);
 * }));
 * ```
 *
 * @module
 */
import { basename, dirname } from "node:path";
import { fileURLToPath } from "node:url";
import { format } from "node:util";
import { sqlstate } from "../database.ts";
import { type CheckpointDatabase, prepareCheckpointDatabase, sensorsTableExists } from "./checkpoint_database.ts";
import { checkpointSeed, SEED_ENV, type SeededRandom, seededRandom } from "./checkpoint_seed.ts";
import { STEP_FOLDER, stepLabel } from "./steps.ts";

/** The environment variable naming the JSON-lines file checkpoint verdicts are appended to. */
export const REPORT_ENV = "LEAKLAB_CHECKPOINT_REPORT";

/** One checkpoint test's verdict, as appended to the report file. */
export interface CheckpointVerdict {
  step: string;
  /** The checkpoint module that ran (`Deno.mainModule`): tells apart copies of a step run in one process. */
  module: string;
  test: string;
  passed: boolean;
  /** What went wrong, in workshop words (failures only). */
  problem?: string;
  /** The whole failure message: problem, file to edit, where the next hint is (failures only). */
  message?: string;
  /** The checkpoint could not judge the learner's code at all (no database, no schema): not the learner's fault. */
  setup?: boolean;
  /** The seed of the run's scenarios (failures only): `LEAKLAB_SEED=<seed>` runs them again. */
  seed?: number;
  /** What the learner's code printed through `console` during this test, one entry per call. */
  output: string[];
}

/** A checkpoint found the step unsolved; its message says what, where, and how to get a hint. */
export class CheckpointFailure extends Error {
  /** The step folder, e.g. "03-fix-with-finally". */
  readonly step: string;
  /** What went wrong, without the file and hint lines. */
  readonly problem: string;

  constructor(step: string, problem: string, message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = "CheckpointFailure";
    this.step = step;
    this.problem = problem;
  }
}

/** The checkpoint could not run for a reason outside the learner's code. */
export class CheckpointSetupError extends Error {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = "CheckpointSetupError";
  }
}

/** What a checkpoint with a database needs: Postgres, sockets, files, and the environment. */
const NEEDED = ["env", "net", "read", "write", "run"] as const;

/** Options for {@linkcode checkpoint}. */
export interface CheckpointOptions {
  /**
   * The step's folder name, `NN-slug`. @default the name of the folder of the
   * test file being run (`Deno.mainModule`): the checkpoint's own step folder,
   * or a copy of it with the same name
   */
  step?: string;
  /** The file the learner edits, relative to the step folder. @default none (required) */
  edit: string;
  /**
   * Prepare the checkpoint database (DATABASE_URL with its schema, or this
   * process' embedded server) before the module's tests. @default true
   */
  database?: boolean;
}

/** A step's checkpoint: registers tests and fails them in workshop words. */
export interface Checkpoint {
  readonly step: string;
  /** The step's label, from its folder's name: "3", or "4b" for `04b-…`. */
  readonly label: string;
  /** `workshop-steps/<step>/<edit>`: the file named in failures. */
  readonly file: string;
  /**
   * This run's seed ({@linkcode SEED_ENV} or a new one): every failure message
   * prints it with the command that re-runs the same scenarios.
   */
  readonly seed: number;
  /**
   * Repeatable draws from {@linkcode Checkpoint.seed} for the facts a scenario
   * varies; a `label` per test or scenario keeps their draws apart.
   */
  random(label: string): SeededRandom;
  /**
   * A test for `Deno.test(step.test(name, fn))`, sanitizers on. Anything the
   * learner's code throws is turned into a {@linkcode CheckpointFailure} that
   * still names the file. (`Deno.test` is called in the checkpoint file so
   * the test report points there.)
   */
  test(name: string, fn: () => void | Promise<void>): Deno.TestDefinition;
  /** Throws a {@linkcode CheckpointFailure} unless `condition` holds; `problem` is built only then. */
  expect(condition: unknown, problem: string | (() => string)): asserts condition;
  /** Throws a {@linkcode CheckpointFailure} saying `problem`. */
  fail(problem: string, cause?: unknown): never;
}

/**
 * Creates the checkpoint of one step.
 * @throws {RangeError} when `step` is not an `NN-slug` folder name or `edit` is empty
 */
export function checkpoint(options: CheckpointOptions): Checkpoint {
  const id = options.step ?? basename(dirname(fileURLToPath(Deno.mainModule)));
  if (!STEP_FOLDER.test(id)) {
    throw new RangeError(
      `Cannot create checkpoint as 'step' must be a step folder name like "03-fix-with-finally": current value is "${id}"`,
    );
  }
  if (!options.edit) throw new RangeError("Cannot create checkpoint as 'edit' must name the file the learner edits");
  const label = stepLabel(id);
  const missing = NEEDED.filter((name) => Deno.permissions.querySync({ name }).state !== "granted");
  if (options.database !== false && missing.length > 0) {
    throw new Error(
      `Step ${label}'s checkpoint needs every permission (it runs PostgreSQL, pools and traces), but it lacks ` +
        `${missing.map((name) => `--allow-${name}`).join(", ")}. Run \`deno test -A workshop-steps/\`, or ` +
        `\`deno task check ${label}\`.`,
    );
  }
  const file = `workshop-steps/${id}/${options.edit}`;
  const seed = checkpointSeed();
  const database = options.database === false ? undefined : databaseBeforeTests();

  const failure = (problem: string, cause?: unknown) =>
    new CheckpointFailure(
      id,
      problem,
      failureMessage({
        label,
        problem,
        file,
        hint: `Stuck? \`deno task hint ${label}\` gives the next hint.`,
        seed: seedLine(seed, label),
      }),
      cause === undefined ? undefined : { cause },
    );

  const verdict = (test: string, output: string[], fields: Partial<CheckpointVerdict>): CheckpointVerdict => ({
    step: id,
    module: Deno.mainModule,
    test,
    passed: false,
    output,
    ...fields,
  });

  return {
    step: id,
    label,
    file,
    seed,
    random: (label) => seededRandom(seed, label),
    test(name, fn) {
      return {
        name,
        sanitizeOps: true,
        sanitizeResources: true,
        fn: async () => {
          const printed = captureConsole();
          let db: CheckpointDatabase | undefined;
          try {
            db = await database?.ready();
            await fn();
          } catch (error) {
            printed.restore();
            const setup = error instanceof CheckpointSetupError ? error : await setupProblem(db, error);
            if (setup) {
              await appendVerdict(verdict(name, printed.lines, { setup: true, problem: setup.message }));
              throw setup;
            }
            const reported = error instanceof CheckpointFailure ? error : failure(describeThrow(error, file), error);
            await appendVerdict(
              verdict(name, printed.lines, { problem: reported.problem, message: reported.message, seed }),
            );
            throw reported;
          } finally {
            printed.restore();
          }
          await appendVerdict(verdict(name, printed.lines, { passed: true }));
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
}

/** The line of a failure message that says how to run the same scenarios again. */
export function seedLine(seed: number, label: string): string {
  return `These scenarios came from seed ${seed}: \`${SEED_ENV}=${seed} deno task check ${label}\` runs them again.`;
}

/** The pieces of a failure message, in the order a learner reads them. */
export interface FailureMessageParts {
  /** The step's label: "3", "4b". */
  label: string;
  /** What went wrong. */
  problem: string;
  /** The file to edit, from the repository root. */
  file: string;
  /** Where the next hint is (never the hint itself). */
  hint: string;
  /** How to run the same scenarios again (the seed). @default none */
  seed?: string;
}

/** "Step N is not solved yet", the problem, the file to edit and where the next hint is. */
export function failureMessage(parts: FailureMessageParts): string {
  return `Step ${parts.label} is not solved yet.\n\n${indent(parts.problem)}\n\nEdit ${parts.file}\n${parts.hint}\n` +
    (parts.seed ? `${parts.seed}\n` : "");
}

/**
 * What is wrong with a message shown to a learner, if anything: a value that
 * never got filled in (`undefined` or `NaN` outside backticks), or a doubled
 * full stop. CI runs every message the checkpoints produce through it.
 */
export function messageDefects(message: string): string[] {
  const defects: string[] = [];
  if (/(?<!`)\bundefined\b(?!`)/.test(message)) defects.push("prints undefined");
  if (/(?<!`)\bNaN\b(?!`)/.test(message)) defects.push("prints NaN");
  if (/(?<!\.)\.\s*\.(?!\.)/.test(message)) defects.push("has a doubled full stop");
  return defects;
}

/** Prepares the database once, in the module's `beforeAll`; tests await it and fail as setup problems if it failed. */
function databaseBeforeTests(): { ready(): Promise<CheckpointDatabase> } {
  let prepared: Promise<CheckpointDatabase> | undefined;
  Deno.test.beforeAll(async () => {
    prepared = prepareCheckpointDatabase();
    await prepared.catch(() => {}); // reported by the first test, in workshop words
  });
  return {
    async ready() {
      try {
        return await (prepared ??= prepareCheckpointDatabase());
      } catch (error) {
        throw new CheckpointSetupError(
          `The checkpoint could not get its PostgreSQL, so it could not look at your code yet: ${
            error instanceof Error ? error.message : String(error)
          }`,
          { cause: error },
        );
      }
    },
  };
}

/** A failure that is the setup's, not the learner's: the demo table missing from the database. */
async function setupProblem(db: CheckpointDatabase | undefined, error: unknown): Promise<Error | undefined> {
  if (!db) return undefined;
  const missing = sqlstate(error) === "42P01" || !(await sensorsTableExists().catch(() => true));
  if (!missing) return undefined;
  return new CheckpointSetupError(
    `The database the checkpoint uses (${db.displayUrl}) has no "sensors" table, so the checkpoint could not judge ` +
      "your code. This is not your code's fault: the checkpoint creates the table when it starts, so something " +
      "dropped it since. Run the checkpoint again.",
    { cause: error },
  );
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

const CONSOLE_METHODS = ["log", "info", "warn", "error", "debug", "trace", "dir", "table"] as const;

/** Records what goes through `console` (and still prints it), so a failed check can show the learner's output. */
function captureConsole(): { lines: string[]; restore(): void } {
  const lines: string[] = [];
  const originals = new Map<string, (...args: unknown[]) => void>();
  const target = console as unknown as Record<string, (...args: unknown[]) => void>;
  for (const method of CONSOLE_METHODS) {
    const original = target[method];
    originals.set(method, original);
    target[method] = (...args: unknown[]) => {
      lines.push(method === "dir" ? Deno.inspect(args[0]) : format(...args));
      original.apply(console, args);
    };
  }
  return {
    lines,
    restore() {
      for (const [method, original] of originals) target[method] = original;
      originals.clear();
    },
  };
}

function indent(text: string): string {
  return text.split("\n").map((line) => (line ? `  ${line}` : line)).join("\n");
}

async function appendVerdict(verdict: CheckpointVerdict): Promise<void> {
  const path = Deno.env.get(REPORT_ENV);
  if (!path) return;
  await Deno.writeTextFile(path, JSON.stringify(verdict) + "\n", { append: true });
}
