/**
 * Proof that the self-paced workshop can be trusted, like rustlings' `dev
 * check`: every step is complete; every starter FAILS its checkpoint with
 * the message its README quotes; every known-wrong attempt in `wrong/` FAILS
 * with a message that names its mistake (its `// Expect:` line); every
 * solution, copied over the starter, PASSES; and no message any of them gets
 * prints `undefined`, `NaN` or a doubled full stop.
 *
 * Everything is read from the step folders: adding a step is adding a folder.
 * Each variant runs in a copy of its step folder, `workshop-steps/.tmp-*` /
 * `<step-id>/` (the `leak-lab/` import map applies there), against the run's
 * Postgres: starters and solutions one `deno test` process each, the wrong
 * attempts of a step all in one process, a few processes at a time. The
 * solutions run against a fresh, empty database, so they also prove that a
 * checkpoint creates the schema it needs.
 */
import { assert, assertEquals, assertGreaterOrEqual, assertStringIncludes } from "@std/assert";
import { messageDefects } from "../lib/workshop/checkpoint.ts";
import { type CheckpointRun, failureMessages, runVariants, verdictsOf } from "../lib/workshop/checkpoint_runner.ts";
import {
  type CorrectAttempt,
  listSteps,
  readCorrectAttempt,
  readWrongAttempt,
  type WorkshopStep,
  type WrongAttempt,
} from "../lib/workshop/steps.ts";
import { adminQuery, checkpointDatabaseUrl } from "../lib/workshop/checkpoint_database.ts";
import { sqlstate } from "../lib/database.ts";

/** How many checkpoint processes run at once: each opens a handful of connections and one Deno process. */
const CONCURRENCY = 4;
const MIN_WRONG_PER_STEP = 4;
const MIN_CORRECT_PER_STEP = 2;
const MIN_WRONG_IN_ALL = 24;
const MIN_HINTS = 3;

const steps = await listSteps();
const attempts = new Map<string, WrongAttempt[]>();
const correctAttempts = new Map<string, CorrectAttempt[]>();
for (const step of steps) {
  attempts.set(step.id, await Promise.all(step.wrong.map((name) => readWrongAttempt(step, name))));
  correctAttempts.set(step.id, await Promise.all(step.correct.map((name) => readCorrectAttempt(step, name))));
}

/** What a step's README says the untouched starter's checkpoint reports: its blockquote after "the checkpoint says:". */
function starterQuote(readme: string): string[] {
  const after = (readme.split(/the checkpoint says:\s*\n/)[1] ?? "").trimStart().split("\n");
  const end = after.findIndex((line) => !line.startsWith(">"));
  const quote = after.slice(0, end === -1 ? after.length : end).map((line) => line.replace(/^>\s?/, "")).join(" ");
  return quote.split("…").map(squash).filter(Boolean);
}

function squash(text: string): string {
  return text.replace(/\s+/g, " ").trim();
}

/** Whether every fragment appears in `text`, in order. */
function includesInOrder(text: string, fragments: readonly string[]): boolean {
  let from = 0;
  for (const fragment of fragments) {
    const at = squash(text).indexOf(fragment, from);
    if (at === -1) return false;
    from = at + fragment.length;
  }
  return true;
}

Deno.test("workshop-steps/ holds complete steps: a quoted starter failure, a marked bug, graduated hints and named wrong attempts", async () => {
  assertGreaterOrEqual(steps.length, 5);
  assertEquals(new Set(steps.map((s) => s.label)).size, steps.length, "every step has its own number");
  for (const step of steps) {
    const readme = await Deno.readTextFile(`${step.dir}/README.md`);
    const checkpoint = await Deno.readTextFile(step.checkpoint);
    assertStringIncludes(readme, `deno task check ${step.label}`, `${step.id}/README.md says how to check`);
    assertStringIncludes(readme, `deno task hint ${step.label}`, `${step.id}/README.md says how to get a hint`);
    assertStringIncludes(readme, `# Step ${step.label} — `, `${step.id}/README.md's heading carries its number`);
    assert(starterQuote(readme).length > 0, `${step.id}/README.md quotes what the starter's checkpoint says`);
    assertGreaterOrEqual(step.hints.length, MIN_HINTS, `${step.id}/hints.md has at least ${MIN_HINTS} hints`);
    assertEquals(new Set(step.hints).size, step.hints.length, `${step.id}'s hints all differ`);
    assert(step.hints.every((hint) => hint.length > 40), `${step.id}'s hints are real hints`);
    assertEquals(step.files.length, 1, `${step.id} has one file to edit (each wrong attempt is a whole version of it)`);
    const [file] = step.files;
    const starter = await Deno.readTextFile(`${step.dir}/${file}`);
    const solution = await Deno.readTextFile(`${step.dir}/solution/${file}`);
    assertStringIncludes(readme, `workshop-steps/${step.id}/${file}`, `${step.id}/README.md names the file to edit`);
    assertStringIncludes(starter, `BUG (step ${step.label})`, `${step.id}/${file} marks its deliberate bug`);
    assert(!solution.includes("BUG ("), `${step.id}/solution/${file} has no bug marker left`);
    assert(starter !== solution, `${step.id}/${file} differs from its solution`);
    assertStringIncludes(checkpoint, `from "./${file}"`, `${step.id}'s checkpoint imports the starter by path`);

    assertGreaterOrEqual(
      step.wrong.length,
      MIN_WRONG_PER_STEP,
      `${step.id}/wrong/ holds ${MIN_WRONG_PER_STEP}+ attempts`,
    );
    assertGreaterOrEqual(
      step.correct.length,
      MIN_CORRECT_PER_STEP,
      `${step.id}/correct/ holds ${MIN_CORRECT_PER_STEP}+ correct attempts in other styles than the solution's`,
    );
    const versions = [starter, solution];
    for (const name of [...step.wrong.map((n) => `wrong/${n}`), ...step.correct.map((n) => `correct/${n}`)]) {
      const source = await Deno.readTextFile(`${step.dir}/${name}`);
      assert(!versions.includes(source), `${step.id}/wrong/${name} differs from the starter, the solution, the others`);
      versions.push(source);
    }
    for (const source of versions) {
      assert(!source.includes("../../lib/"), `${step.id}: files import lib/ as "leak-lab/…", so they resolve anywhere`);
    }
  }
  const total = [...attempts.values()].flat().length;
  assertGreaterOrEqual(total, MIN_WRONG_IN_ALL, `at least ${MIN_WRONG_IN_ALL} wrong attempts in all (found ${total})`);
});

type Job = { step: WorkshopStep; kind: "starter" | "solution" | "wrong" | "correct" };

/** A new, empty database on the run's server (no `sensors` table yet), dropped by `drop()`. */
async function freshDatabase(): Promise<{ url: string; drop(): Promise<void> }> {
  const name = `leaklab_fresh_${crypto.randomUUID().slice(0, 8)}`;
  const url = new URL(checkpointDatabaseUrl());
  try {
    await adminQuery(`CREATE DATABASE ${name}`);
  } catch (error) {
    if (sqlstate(error) !== "42501" || Deno.env.get("CI") === "true") throw error;
    console.warn(`SKIPPED (visibly): solutions run on ${url.host}'s own database: its user may not CREATE DATABASE`);
    return { url: url.href, drop: () => Promise.resolve() };
  }
  url.pathname = `/${name}`;
  return { url: url.href, drop: async () => void await adminQuery(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`) };
}

Deno.test("every starter and wrong attempt fails its checkpoint naming its mistake, and every solution passes", async (t) => {
  const databaseUrl = checkpointDatabaseUrl();
  const fresh = await freshDatabase();
  const started = performance.now();
  // The wrong attempts run longest (several checkpoints in one process): start them first.
  const jobs: Job[] = [
    ...steps.filter((step) => step.wrong.length > 0).map((step) => ({ step, kind: "wrong" as const })),
    ...steps.filter((step) => step.correct.length > 0).map((step) => ({ step, kind: "correct" as const })),
    ...steps.flatMap((step) => [{ step, kind: "starter" as const }, { step, kind: "solution" as const }]),
  ];
  let runs: { run: CheckpointRun; files: string[] }[];
  try {
    runs = await mapLimit(jobs, CONCURRENCY, (job) => runJob(job, job.kind === "solution" ? fresh.url : databaseUrl));
  } finally {
    await fresh.drop();
  }
  const seconds = ((performance.now() - started) / 1000).toFixed(1);
  const wrongCount = [...attempts.values()].flat().length;
  console.log(
    `${jobs.length} checkpoint processes (${wrongCount} wrong attempts), ${CONCURRENCY} at a time: ${seconds} s`,
  );

  const messages: { where: string; message: string }[] = [];
  for (const [i, job] of jobs.entries()) {
    const { step } = job;
    const { run, files } = runs[i];
    if (job.kind === "solution") {
      await t.step(`${step.id}: the solution passes`, async () => {
        assertEquals(
          run.outcome,
          "passed",
          describe(run, `${step.id} with solution/* copied over the starter, on a fresh empty database`),
        );
        const tests = (await Deno.readTextFile(step.checkpoint)).match(/Deno\.test\(\s*step\.test\(/g)?.length;
        assertEquals(run.verdicts.length, tests, `every checkpoint test of ${step.id} ran and reported`);
      });
    } else if (job.kind === "starter") {
      await t.step(`${step.id}: the starter fails with the message its README quotes`, async () => {
        assert(
          run.outcome !== "passed",
          `The starter of ${step.id} passes its checkpoint. If you are doing the workshop, you solved it: ` +
            `\`deno task reset-step ${step.label}\` restores the starter (your version is kept in .leaklab/backup/).`,
        );
        assertEquals(run.outcome, "failed", describe(run, `${step.id}'s starter`));
        assertClean(run, `${step.id}'s starter`);
        const [first] = failureMessages(run);
        const quote = starterQuote(await Deno.readTextFile(`${step.dir}/README.md`));
        assert(
          includesInOrder(first, quote),
          `${step.id}/README.md quotes the starter's failure as\n  ${
            quote.join(" … ")
          }\nbut the checkpoint says\n${first}`,
        );
        assertStringIncludes(first, `Edit workshop-steps/${step.id}/${step.files[0]}`);
        assertStringIncludes(first, `Stuck? \`deno task hint ${step.label}\``);
        assert(!step.hints.some((hint) => first.includes(hint)), "a failure gives the hint command, never a hint");
        messages.push(...failureMessages(run).map((message) => ({ where: `${step.id} starter`, message })));
      });
    } else if (job.kind === "correct") {
      await t.step(`${step.id}: each of the ${step.correct.length} correct attempts passes`, () => {
        assert(!["timeout", "broken", "setup"].includes(run.outcome), describe(run, `${step.id}'s correct attempts`));
        for (const [j, attempt] of (correctAttempts.get(step.id) ?? []).entries()) {
          const verdicts = verdictsOf(run, files[j]);
          const label = `${step.id}/correct/${attempt.name} (${attempt.why})`;
          assert(verdicts.length > 0, `${label}: its checkpoint never reported\n${run.output.slice(-3000)}`);
          const [first] = failureMessages({ verdicts });
          assert(first === undefined, `${label} is right, yet its checkpoint rejects it:\n${first}`);
        }
      });
    } else {
      await t.step(`${step.id}: each of the ${step.wrong.length} wrong attempts fails, naming its mistake`, () => {
        assert(!["timeout", "broken", "setup"].includes(run.outcome), describe(run, `${step.id}'s wrong attempts`));
        assertClean(run, `${step.id}'s wrong attempts`);
        for (const [j, attempt] of (attempts.get(step.id) ?? []).entries()) {
          const verdicts = verdictsOf(run, files[j]);
          const label = `${step.id}/wrong/${attempt.name} (${attempt.mistake})`;
          assert(verdicts.length > 0, `${label}: its checkpoint never reported\n${run.output.slice(-3000)}`);
          const [first] = failureMessages({ verdicts });
          assert(first !== undefined, `${label} PASSES its checkpoint: the checkpoint misses this mistake`);
          assert(
            squash(first).includes(squash(attempt.expect)),
            `${label} fails, but the message does not say "${attempt.expect}":\n${first}`,
          );
          messages.push(...failureMessages({ verdicts }).map((message) => ({ where: label, message })));
        }
      });
    }
  }

  await t.step("no failure message prints undefined, NaN or a doubled full stop", () => {
    const defects = messages.flatMap(({ where, message }) =>
      messageDefects(message).map((defect) => `${where}: ${defect}:\n${message}`)
    );
    assertEquals(defects, []);
    assertGreaterOrEqual(messages.length, steps.length + MIN_WRONG_IN_ALL);
  });
});

/** No type errors, no missing modules, and the checkpoint cleaned up after itself even though it failed. */
function assertClean(run: CheckpointRun, what: string): void {
  assert(!/\bTS\d{4}\b|Module not found|Unable to load/.test(run.output), describe(run, `${what} compile and load`));
  assert(!run.output.includes("Leaks detected"), describe(run, `${what} clean up after themselves`));
}

/** Runs a job's checkpoint(s) with `runVariants()`: the starter, the solution, or every attempt of a folder. */
function runJob(job: Job, databaseUrl: string): Promise<{ run: CheckpointRun; files: string[] }> {
  const { step } = job;
  const variants = job.kind === "wrong" || job.kind === "correct"
    ? step[job.kind].map((name) => `${step.dir}/${job.kind}/${name}`)
    : [job.kind === "solution" ? `${step.dir}/solution/${step.files[0]}` : undefined];
  return runVariants(step, variants, { databaseUrl });
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
