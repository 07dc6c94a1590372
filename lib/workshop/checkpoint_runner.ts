/**
 * Runs one step's checkpoint with `deno test` in a subprocess and classifies
 * the result: passed, failed (a checkpoint said what is wrong), setup (it
 * could not judge the learner's code: no database), broken (it never got to a
 * verdict: a type error, a missing module, a crash) or timeout.
 *
 * The verdicts are read from the JSON-lines report each checkpoint test
 * appends (see `lib/workshop/checkpoint.ts`), not parsed out of the test output.
 *
 * @module
 */
import { pathToFileURL } from "node:url";
import { type CheckpointVerdict, REPORT_ENV } from "./checkpoint.ts";
import { REPO_ROOT, type WorkshopStep } from "./steps.ts";

// deno-lint-ignore no-control-regex
const ANSI = /\x1b\[[0-9;]*m/g;

/** How one checkpoint run ended. */
export interface CheckpointRun {
  outcome: "passed" | "failed" | "setup" | "broken" | "timeout";
  /** One per checkpoint test that ran to its end, in order. */
  verdicts: CheckpointVerdict[];
  /** `deno test`'s stdout then stderr, without colours. */
  output: string;
  /** The subprocess' exit code (undefined on timeout). */
  code: number | undefined;
  durationMs: number;
}

/** Options for {@linkcode runCheckpoint}. */
export interface RunCheckpointOptions {
  /** The Postgres the checkpoint uses. @default the inherited DATABASE_URL, else the checkpoint starts its own */
  databaseUrl?: string;
  /** Working directory: the repository root, so deno.json's imports apply. @default Deno.cwd() */
  cwd?: string;
  /** Kills the run after this long. @default 120000 */
  timeoutMs?: number;
  /** Kills the run when aborted (the run then ends as "broken"). @default none */
  signal?: AbortSignal;
  /** More environment for `deno test` (an empty DATABASE_URL unsets it). @default none */
  env?: Record<string, string>;
}

/**
 * Runs `deno test -A --sanitize-ops --sanitize-resources <checkpointFile>…`
 * and reports how it ended. Several files (copies of one step with different
 * attempts) run in one process, one after another: tell their verdicts apart
 * with {@linkcode verdictsOf}.
 * @throws {RangeError} when `timeoutMs` is not a positive integer
 *
 * @example
 * ```ts ignore
 * const run = await runCheckpoint("workshop-steps/03-fix-with-finally/checkpoint_test.ts", { databaseUrl });
 * if (run.outcome === "failed") console.log(run.verdicts.find((v) => !v.passed)?.message);
 * ```
 */
export async function runCheckpoint(
  checkpointFiles: string | readonly string[],
  options: RunCheckpointOptions = {},
): Promise<CheckpointRun> {
  const timeoutMs = options.timeoutMs ?? 120_000;
  if (!Number.isInteger(timeoutMs) || timeoutMs <= 0) {
    throw new RangeError(
      `Cannot run checkpoint as 'timeoutMs' must be a positive integer: current value is ${timeoutMs}`,
    );
  }
  const report = await Deno.makeTempFile({ prefix: "leaklab-checkpoint-", suffix: ".jsonl" });
  const controller = new AbortController();
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    controller.abort();
  }, timeoutMs);
  const stop = () => controller.abort();
  options.signal?.addEventListener("abort", stop);
  if (options.signal?.aborted) controller.abort();
  const started = performance.now();
  try {
    const result = await new Deno.Command(Deno.execPath(), {
      // A workshop about leaks checks for its own: sanitizers are opt-in since Deno 2.
      args: [
        "test",
        "-A",
        "--no-prompt",
        "--sanitize-ops",
        "--sanitize-resources",
        "--trace-leaks",
        ...[checkpointFiles].flat(),
      ],
      cwd: options.cwd,
      env: {
        ...(options.databaseUrl ? { DATABASE_URL: options.databaseUrl } : {}),
        ...options.env,
        NO_COLOR: "1",
        [REPORT_ENV]: report,
      },
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
      signal: controller.signal,
    }).output();
    const durationMs = Math.round(performance.now() - started);
    const decoder = new TextDecoder();
    // NO_COLOR does not reach every line (deno's type-check hints), so strip what is left.
    const output = `${decoder.decode(result.stdout)}${decoder.decode(result.stderr)}`.replace(ANSI, "");
    const verdicts = parseVerdicts(await Deno.readTextFile(report));
    if (timedOut) return { outcome: "timeout", verdicts, output, code: undefined, durationMs };
    if (controller.signal.aborted) return { outcome: "broken", verdicts, output, code: undefined, durationMs };
    return { outcome: classify(result.code, verdicts), verdicts, output, code: result.code, durationMs };
  } finally {
    clearTimeout(timer);
    options.signal?.removeEventListener("abort", stop);
    await Deno.remove(report).catch(() => {});
  }
}

/** The failure messages of a run, first failing test first. */
export function failureMessages(run: Pick<CheckpointRun, "verdicts">): string[] {
  return run.verdicts.filter((v) => !v.passed).map((v) => v.message ?? v.problem ?? "(no message)");
}

/** The verdicts of one checkpoint file of a run of several. */
export function verdictsOf(run: CheckpointRun, checkpointFile: string): CheckpointVerdict[] {
  const module = pathToFileURL(checkpointFile).href;
  return run.verdicts.filter((verdict) => verdict.module === module);
}

/**
 * The lines of `deno test` output worth showing when a checkpoint is broken:
 * compiler errors, module resolution errors, uncaught errors — without the
 * Rust backtrace noise.
 */
export function brokenExcerpt(output: string, maxLines = 40): string {
  // Without the Rust backtrace, and without deno's advice to skip type-checking: a learner should fix the type error.
  const noise =
    /^(Stack backtrace:|\s+\d+: <unknown>|\s*info: The program failed type-checking|\s*hint: Re-run with --no-check)/;
  const lines = output.split("\n").filter((line) => !noise.test(line));
  const start = lines.findIndex((line) => /^(error|TS\d+|\[ERROR\]|ERRORS)/.test(line.trim()));
  const from = start === -1 ? Math.max(0, lines.length - maxLines) : start;
  return lines.slice(from, from + maxLines).join("\n").trim();
}

function classify(code: number, verdicts: CheckpointVerdict[]): CheckpointRun["outcome"] {
  if (verdicts.some((v) => v.setup)) return "setup";
  if (verdicts.some((v) => !v.passed)) return "failed";
  if (code === 0 && verdicts.length > 0) return "passed";
  return "broken"; // no verdict at all, or every test passed yet deno test failed (e.g. a sanitizer)
}

function parseVerdicts(text: string): CheckpointVerdict[] {
  return text.split("\n").filter((line) => line.trim()).map((line) => JSON.parse(line) as CheckpointVerdict);
}

/** Options for {@linkcode runVariants}: {@linkcode RunCheckpointOptions} without `cwd` (always the repository). */
export type RunVariantsOptions = Omit<RunCheckpointOptions, "cwd" | "timeoutMs">;

/**
 * Runs a step's checkpoint once per variant of the learner's file, all in one
 * `deno test` process: each variant is copied over the starter in its own
 * copy of the step folder, `workshop-steps/.tmp-<id>/<step-id>/` (so the
 * `leak-lab/` import map and the step's name apply), removed afterwards.
 * `undefined` runs the untouched starter. Tell the variants' verdicts apart
 * with {@linkcode verdictsOf} and the returned checkpoint files.
 */
export async function runVariants(
  step: Pick<WorkshopStep, "id" | "dir" | "files">,
  variants: readonly (string | undefined)[],
  options: RunVariantsOptions = {},
): Promise<{ run: CheckpointRun; files: string[] }> {
  if (variants.length === 0) throw new RangeError("Cannot run variants as 'variants' is empty: name at least one");
  const roots: string[] = [];
  try {
    const files: string[] = [];
    for (const variant of variants) {
      const root = `${REPO_ROOT}/workshop-steps/.tmp-${crypto.randomUUID().slice(0, 8)}`;
      roots.push(root);
      const copy = `${root}/${step.id}`;
      await copyFolder(step.dir, copy);
      if (variant) await Deno.copyFile(variant, `${copy}/${step.files[0]}`);
      files.push(`${copy}/checkpoint_test.ts`);
    }
    const timeoutMs = 60_000 + 30_000 * files.length;
    return { run: await runCheckpoint(files, { ...options, cwd: REPO_ROOT, timeoutMs }), files };
  } finally {
    for (const root of roots) await Deno.remove(root, { recursive: true }).catch(() => {});
  }
}

/** Copies a step folder but its `wrong/` and `correct/` attempts (the copy needs only what its checkpoint reads). */
async function copyFolder(from: string, to: string): Promise<void> {
  await Deno.mkdir(to, { recursive: true });
  for await (const entry of Deno.readDir(from)) {
    if (entry.isDirectory && (entry.name === "wrong" || entry.name === "correct")) continue;
    if (entry.isDirectory) await copyFolder(`${from}/${entry.name}`, `${to}/${entry.name}`);
    else if (entry.isFile) await Deno.copyFile(`${from}/${entry.name}`, `${to}/${entry.name}`);
  }
}
