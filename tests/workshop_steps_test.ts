/**
 * Proof that the self-paced workshop works, like rustlings' `dev check`:
 * every step is complete, every starter FAILS its checkpoint for the step's
 * own reason (not a type error, a missing module or a timeout), and every
 * solution, copied over the starter, PASSES it.
 *
 * Each checkpoint runs in its own `deno test` subprocess against the run's
 * Postgres, a few at a time, each variant in a temporary copy of the step
 * folder (`workshop-steps/.tmp-*`, same depth, so `../../lib/` resolves).
 */
import { assert, assertEquals, assertGreaterOrEqual, assertStringIncludes } from "@std/assert";
import { type CheckpointRun, failureMessages, runCheckpoint } from "../lib/workshop/checkpoint_runner.ts";
import { listSteps, readHint, REPO_ROOT, type WorkshopStep } from "../lib/workshop/steps.ts";
import { checkpointDatabaseUrl } from "../lib/workshop/checkpoint_database.ts";

/** What each starter's checkpoint must say first: the step's own diagnosis of its deliberate bug. */
const STARTER_FAILS_WITH: Record<string, string> = {
  "01-reproduce-exhaustion": "that is a query failure, not exhaustion",
  "02-find-leaks-in-traces": "A failed request is not necessarily a leaking one",
  "03-fix-with-finally": "and its connection never came back",
  "04-fix-with-await-using": "then replica.acquire() threw — and the primary connection was never returned",
  "05-lease-guard": "it should have failed the test with LeakedLeaseError",
  "06-utilisation-alerts": "with no critical alert before it",
};

/** How many checkpoints run at once: each opens a handful of connections and one Deno process. */
const CONCURRENCY = 4;

const steps = await listSteps();

Deno.test("workshop-steps/ holds at least five complete steps, each with a marked bug and its own checkpoint", async () => {
  assertGreaterOrEqual(steps.length, 5);
  assertEquals(steps.map((s) => s.number), steps.map((_, i) => i + 1), "steps are numbered 01, 02, … without gaps");
  assertEquals(Object.keys(STARTER_FAILS_WITH).sort(), steps.map((s) => s.id), "every step has its expected failure");
  for (const step of steps) {
    const readme = await Deno.readTextFile(`${step.dir}/README.md`);
    const checkpoint = await Deno.readTextFile(step.checkpoint);
    assertStringIncludes(readme, `deno task check ${step.number}`, `${step.id}/README.md says how to check`);
    assert((await readHint(step)).length > 40, `${step.id}/hint.md holds a real hint`);
    for (const file of step.files) {
      const starter = await Deno.readTextFile(`${step.dir}/${file}`);
      const solution = await Deno.readTextFile(`${step.dir}/solution/${file}`);
      assertStringIncludes(readme, `workshop-steps/${step.id}/${file}`, `${step.id}/README.md names the file to edit`);
      assertStringIncludes(starter, `BUG (step ${step.number})`, `${step.id}/${file} marks its deliberate bug`);
      assert(!solution.includes("BUG ("), `${step.id}/solution/${file} has no bug marker left`);
      assert(starter !== solution, `${step.id}/${file} differs from its solution`);
      assertStringIncludes(checkpoint, `from "./${file}"`, `${step.id}'s checkpoint imports the starter by path`);
    }
  }
});

Deno.test("every starter fails its checkpoint for its own reason, and every solution passes", async (t) => {
  const databaseUrl = checkpointDatabaseUrl();
  const started = performance.now();
  const jobs = steps.flatMap((step) => [
    { step, variant: "starter" as const },
    { step, variant: "solution" as const },
  ]);
  const runs = await mapLimit(jobs, CONCURRENCY, ({ step, variant }) => runInCopy(step, variant, databaseUrl));
  const seconds = ((performance.now() - started) / 1000).toFixed(1);
  console.log(`${runs.length} checkpoint runs, ${CONCURRENCY} at a time: ${seconds} s`);

  for (const [i, { step, variant }] of jobs.entries()) {
    const run = runs[i];
    await t.step(`${step.id}: the ${variant} ${variant === "starter" ? "fails" : "passes"}`, async () => {
      if (variant === "solution") {
        assertEquals(run.outcome, "passed", describe(run, `${step.id} with solution/* copied over the starter`));
        const tests = (await Deno.readTextFile(step.checkpoint)).match(/Deno\.test\(\s*step\.test\(/g)?.length;
        assertEquals(run.verdicts.length, tests, `every checkpoint test of ${step.id} ran and reported`);
        return;
      }
      assert(
        run.outcome !== "passed",
        `The starter of ${step.id} passes its checkpoint. If you are doing the workshop, you solved it: ` +
          `\`deno task reset-step ${step.number}\` restores the starter (your version is kept in .leaklab/backup/).`,
      );
      assertEquals(run.outcome, "failed", describe(run, `${step.id}'s starter`));
      assert(!/\bTS\d{4}\b|Module not found|Unable to load/.test(run.output), describe(run, "compiles and loads"));
      assert(!run.output.includes("Leaks detected"), describe(run, "cleans up after itself even when it fails"));
      const [first] = failureMessages(run);
      assertStringIncludes(first, STARTER_FAILS_WITH[step.id]);
      assertStringIncludes(first, `Edit workshop-steps/${step.id}/${step.files[0]}`);
      assertStringIncludes(first, (await readHint(step)).split("\n")[0]);
      assertStringIncludes(run.output, "CheckpointFailure: Step");
    });
  }
});

/**
 * Runs a step's checkpoint in a temporary copy of its folder beside it, with
 * the solution copied over the starter for the "solution" variant.
 */
async function runInCopy(
  step: WorkshopStep,
  variant: "starter" | "solution",
  databaseUrl: string,
): Promise<CheckpointRun> {
  const copy = `${REPO_ROOT}/workshop-steps/.tmp-${step.id}-${variant}-${crypto.randomUUID().slice(0, 8)}`;
  try {
    await copyFolder(step.dir, copy);
    if (variant === "solution") {
      for (const file of step.files) await Deno.copyFile(`${step.dir}/solution/${file}`, `${copy}/${file}`);
    }
    return await runCheckpoint(`${copy}/checkpoint_test.ts`, { databaseUrl, cwd: REPO_ROOT, timeoutMs: 90_000 });
  } finally {
    await Deno.remove(copy, { recursive: true }).catch(() => {});
  }
}

async function copyFolder(from: string, to: string): Promise<void> {
  await Deno.mkdir(to, { recursive: true });
  for await (const entry of Deno.readDir(from)) {
    if (entry.isDirectory) await copyFolder(`${from}/${entry.name}`, `${to}/${entry.name}`);
    else if (entry.isFile) await Deno.copyFile(`${from}/${entry.name}`, `${to}/${entry.name}`);
  }
}

/** Runs `fn` over `items` with at most `limit` at once, results in input order. */
async function mapLimit<T, R>(items: readonly T[], limit: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const results: R[] = new Array(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      results[i] = await fn(items[i]);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return results;
}

function describe(run: CheckpointRun, what: string): string {
  const failures = failureMessages(run);
  return `${what}: outcome ${run.outcome} (exit ${run.code}, ${run.durationMs} ms)\n` +
    (failures.length ? failures.join("\n---\n") : run.output.split("\n").slice(-40).join("\n"));
}
