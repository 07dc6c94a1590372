/**
 * The learner's commands (`tasks/steps.ts`: steps, check, hint, reset-step)
 * run as a learner runs them, with progress kept in a temporary file so a
 * learner's own `.leaklab/progress.json` is never touched, and edits made in
 * copies of the steps (LEAKLAB_STEPS_DIR), never in the real starters.
 */
import { assert, assertEquals, assertMatch, assertRejects, assertStringIncludes } from "@std/assert";
import type { CheckpointRun } from "../lib/workshop/checkpoint_runner.ts";
import { fingerprint } from "../lib/workshop/progress.ts";
import { listSteps, REPO_ROOT } from "../lib/workshop/steps.ts";
import { explainBroken, restoreStarter } from "../tasks/steps_support.ts";
import { checkpointDatabaseUrl } from "../lib/workshop/checkpoint_database.ts";
import { fakeStepsRepo } from "./support/fake_steps.ts";

/** Runs `deno run -A tasks/steps.ts <args>` with its own progress file (and steps folder, when given). */
async function steps(progressFile: string, ...args: string[]): Promise<{ code: number; out: string }> {
  return await stepsIn(undefined, progressFile, ...args);
}

async function stepsIn(
  stepsDir: string | undefined,
  progressFile: string,
  ...args: string[]
): Promise<{ code: number; out: string }> {
  const result = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", "tasks/steps.ts", ...args],
    cwd: REPO_ROOT,
    env: {
      LEAKLAB_PROGRESS_FILE: progressFile,
      DATABASE_URL: checkpointDatabaseUrl(),
      NO_COLOR: "1",
      ...(stepsDir ? { LEAKLAB_STEPS_DIR: stepsDir } : {}),
    },
    stdout: "piped",
    stderr: "piped",
  }).output();
  const decoder = new TextDecoder();
  return { code: result.code, out: decoder.decode(result.stdout) + decoder.decode(result.stderr) };
}

async function git(root: string, ...args: string[]): Promise<void> {
  const result = await new Deno.Command("git", {
    args: ["-C", root, "-c", "user.name=Leak Lab", "-c", "user.email=lab@example.invalid", ...args],
    stdout: "null",
    stderr: "piped",
  }).output();
  if (!result.success) throw new Error(`git ${args.join(" ")}: ${new TextDecoder().decode(result.stderr)}`);
}

Deno.test("deno task check runs the next step's checkpoint and prints its failure, the file and the hint command", async () => {
  const dir = await Deno.makeTempDir({ prefix: "leaklab-progress-" });
  const progress = `${dir}/progress.json`;
  try {
    const check = await steps(progress, "check");
    assertEquals(check.code, 1, check.out);
    assertStringIncludes(check.out, "Checking step 1: Reproduce the exhaustion");
    assertStringIncludes(check.out, "✗ findExhaustion() names the first request that found the pool exhausted");
    assertStringIncludes(check.out, "✗ Step 1 is not solved yet.");
    assertStringIncludes(check.out, "that is a query failure, not exhaustion");
    assertStringIncludes(check.out, "Edit workshop-steps/01-reproduce-exhaustion/find_exhaustion.ts");
    assertStringIncludes(check.out, "Stuck? `deno task hint 1` shows hint 1 of 3.");
    const seed = check.out.match(/These scenarios came from seed (\d+): `LEAKLAB_SEED=\1 deno task check 1` runs/)?.[1];
    assert(seed, `the failure prints its seed and the command that re-runs it:\n${check.out}`);
    const [step] = await listSteps();
    assert(!step.hints.some((hint) => check.out.includes(hint)), "a failure names the hint command, never a hint");
    assert(!check.out.includes("What your code printed"), "the starter prints nothing");
    assert(!check.out.includes("\x1b["), "no colour codes when the output is not a terminal");
    assertEquals(JSON.parse(await Deno.readTextFile(progress)), { version: 1, passed: {} });

    const unknown = await steps(progress, "check", "99");
    assertEquals(unknown.code, 2);
    assertStringIncludes(unknown.out, `There is no step "99". Name a step by its number or folder: 1 (01-`);
    const bad = await steps(progress, "check", "1", "--verbos");
    assertEquals(bad.code, 2);
    assertStringIncludes(bad.out, "Unexpected arguments: check 1 --verbos");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("deno task check shows what the learner's code printed: on a failure, and with --verbose on a pass", async () => {
  const dir = await Deno.makeTempDir({ prefix: "leaklab-progress-" });
  const stepsDir = `${REPO_ROOT}/workshop-steps/.tmp-cli-${crypto.randomUUID().slice(0, 8)}`;
  try {
    const [real] = await listSteps();
    const copy = `${stepsDir}/${real.id}`;
    await Deno.mkdir(`${copy}/solution`, { recursive: true });
    for (const file of ["README.md", "hints.md", "checkpoint_test.ts", "solution/find_exhaustion.ts"]) {
      await Deno.copyFile(`${real.dir}/${file}`, `${copy}/${file}`);
    }
    const withLog = (source: string) =>
      source.replace("await sendRequest();", 'await sendRequest();\n      console.log("request", request, "ok");');
    const starter = await Deno.readTextFile(`${real.dir}/find_exhaustion.ts`);
    await Deno.writeTextFile(`${copy}/find_exhaustion.ts`, withLog(starter));

    const failed = await stepsIn(stepsDir, `${dir}/progress.json`, "check", "1");
    assertEquals(failed.code, 1, failed.out);
    const printed = failed.out.indexOf("┌ What your code printed");
    const verdict = failed.out.indexOf("✗ Step 1 is not solved yet.");
    assert(printed !== -1 && printed < verdict, `the learner's output comes first, set apart:\n${failed.out}`);
    assertStringIncludes(failed.out, "│ request 1 ok\n");
    assertStringIncludes(failed.out, "└─");

    const solution = await Deno.readTextFile(`${real.dir}/solution/find_exhaustion.ts`);
    await Deno.writeTextFile(`${copy}/find_exhaustion.ts`, withLog(solution));
    const passed = await stepsIn(stepsDir, `${dir}/progress.json`, "check", "1");
    assertEquals(passed.code, 0, passed.out);
    assertStringIncludes(passed.out, "✓ Step 1 passed");
    assert(!passed.out.includes("What your code printed"), "a pass is quiet unless --verbose");
    const verbose = await stepsIn(stepsDir, `${dir}/progress.json`, "check", "1", "--verbose");
    assertEquals(verbose.code, 0, verbose.out);
    assertStringIncludes(verbose.out, "│ request 1 ok\n");
    assertStringIncludes(verbose.out, "That was the last step", "the copy holds one step");
  } finally {
    await Deno.remove(dir, { recursive: true });
    await Deno.remove(stepsDir, { recursive: true }).catch(() => {});
  }
});

Deno.test("deno task steps lists done / next / pending from the progress a previous run saved", async () => {
  const dir = await Deno.makeTempDir({ prefix: "leaklab-progress-" });
  const progress = `${dir}/progress.json`;
  try {
    const all = await listSteps();
    const fresh = await steps(progress, "list");
    assertEquals(fresh.code, 0);
    assertStringIncludes(fresh.out, `0 of ${all.length} steps done`);
    assertMatch(fresh.out, /▶ {2}1 {2}Reproduce the exhaustion.* next/);
    assertMatch(fresh.out, /· {2}2 {2}Find the leaking traces.* pending/);

    // What `check` saves when step 1 passes: its files' fingerprints at that moment.
    const passed = { [all[0].id]: { at: new Date().toISOString(), files: await fingerprint(all[0]) } };
    await Deno.writeTextFile(progress, JSON.stringify({ version: 1, passed }));
    const later = await steps(progress, "list");
    assertStringIncludes(later.out, `1 of ${all.length} steps done`);
    assertMatch(later.out, /✓ {2}1 {2}Reproduce the exhaustion.* done/);
    assertMatch(later.out, /▶ {2}2 {2}Find the leaking traces.* next/);
    assertStringIncludes(later.out, "Next: edit workshop-steps/02-find-leaks-in-traces/find_leaks.ts");

    await Deno.writeTextFile(progress, JSON.stringify({ version: 1, passed: { [all[0].id]: { at: "", files: {} } } }));
    const edited = await steps(progress, "list");
    assertMatch(edited.out, /▶ {2}1 .* next {2}\(passed before, edited since: re-check\)/);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("deno task hint gives the next hint each time and remembers it; --all gives them all", async () => {
  const dir = await Deno.makeTempDir({ prefix: "leaklab-progress-" });
  const progress = `${dir}/progress.json`;
  try {
    const step = (await listSteps())[2];
    const first = await steps(progress, "hint", "3");
    assertEquals(first.code, 0, first.out);
    assertStringIncludes(first.out, "Hint 1 of 3 for step 3, Fix the leak with `finally`:");
    assertStringIncludes(first.out, step.hints[0].split("\n")[0]);
    assert(!first.out.includes(step.hints[1].split("\n")[0]), "one hint at a time");
    assertStringIncludes(first.out, "Run `deno task hint 3` again for hint 2 of 3.");
    const second = await steps(progress, "hint", "3");
    assertStringIncludes(second.out, "Hint 2 of 3");
    assertEquals(JSON.parse(await Deno.readTextFile(progress)).hintsSeen, { [step.id]: 2 });
    const third = await steps(progress, "hint", "3");
    assertStringIncludes(third.out, "Hint 3 of 3");
    assertStringIncludes(third.out, "workshop-steps/03-fix-with-finally/solution/ holds a reference solution");
    const again = await steps(progress, "hint", "3");
    assertStringIncludes(again.out, "Hint 3 of 3");
    assertStringIncludes(again.out, "That was the last of 3 hints; `deno task hint 3 --all` shows them all.");

    const all = await steps(`${dir}/other.json`, "hint", "1", "--all");
    assertEquals(all.code, 0, all.out);
    for (const n of [1, 2, 3]) assertStringIncludes(all.out, `Hint ${n} of 3 for step 1`);
    assertEquals(JSON.parse(await Deno.readTextFile(`${dir}/other.json`)).hintsSeen, { "01-reproduce-exhaustion": 3 });

    const reset = await steps(progress, "reset");
    assertEquals(reset.code, 2);
    assertStringIncludes(reset.out, "Name the step to reset, e.g. `deno task reset-step 3`.");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("restoreStarter() puts back the committed starter and keeps the learner's version", async () => {
  const root = await fakeStepsRepo();
  try {
    await git(root, "init", "-q");
    await git(root, "add", ".");
    await git(root, "commit", "-q", "-m", "steps");
    const [step] = await listSteps(`${root}/workshop-steps`);
    const starter = await Deno.readTextFile(`${step.dir}/answer.ts`);
    await Deno.writeTextFile(`${step.dir}/answer.ts`, "export const answer = 41; // my try\n");

    const restored = await restoreStarter(step, "HEAD", root);
    assertEquals(await Deno.readTextFile(`${step.dir}/answer.ts`), starter);
    assertEquals(restored.length, 1);
    assertEquals(restored[0].file, "answer.ts");
    assertMatch(restored[0].backup!, /^\.leaklab\/backup\/01-first-thing\/.*-answer\.ts$/);
    assertEquals(await Deno.readTextFile(`${root}/${restored[0].backup}`), "export const answer = 41; // my try\n");

    assertEquals(await restoreStarter(step, "HEAD", root), [{ file: "answer.ts" }], "unchanged: no backup");
    await assertRejects(() => restoreStarter(step, "no-such-ref", root), Error, "--ref <commit>");
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});

Deno.test("restoreStarter() explains that it needs a git clone, and writes nothing without one", async () => {
  const root = await fakeStepsRepo();
  try {
    const [step] = await listSteps(`${root}/workshop-steps`);
    await Deno.writeTextFile(`${step.dir}/answer.ts`, "mine\n");
    await assertRejects(() => restoreStarter(step, "HEAD", root), Error, "is not a git clone");
    assertEquals(await Deno.readTextFile(`${step.dir}/answer.ts`), "mine\n");
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});

Deno.test("explainBroken() says why a checkpoint reached no verdict and which file to edit", async () => {
  const [step] = await listSteps();
  const run = (outcome: CheckpointRun["outcome"], output: string): CheckpointRun => ({
    outcome,
    output,
    verdicts: [],
    code: outcome === "timeout" ? undefined : 1,
    durationMs: 120_000,
  });
  const timeout = explainBroken(step, run("timeout", ""));
  assertStringIncludes(timeout, "did not finish in time (120 s)");
  assertStringIncludes(timeout, "Edit workshop-steps/01-reproduce-exhaustion/find_exhaustion.ts");
  const typeError = explainBroken(step, run("broken", "TS2322 [ERROR]: Type 'string' is not assignable"));
  assertStringIncludes(typeError, "your code does not type-check");
  assertStringIncludes(typeError, "TS2322 [ERROR]: Type 'string' is not assignable");
  assertStringIncludes(explainBroken(step, run("broken", "TS2307 [ERROR]: Cannot find module")), "an import cannot");
  assertStringIncludes(explainBroken(step, run("broken", "error: Leaks detected:\n  - A timer")), "left work running");
  assert(explainBroken(step, run("broken", "error: Uncaught (in promise)")).includes("it crashed"));
});
