import { assert, assertEquals, assertMatch, assertRejects, assertStringIncludes } from "@std/assert";
import {
  brokenExcerpt,
  type CheckpointRun,
  failureMessages,
  runCheckpoint,
  verdictsOf,
} from "../lib/workshop/checkpoint_runner.ts";
import { REPO_ROOT } from "../lib/workshop/steps.ts";

/**
 * Small checkpoints written into a temporary folder under workshop-steps/
 * (deno.json's `leak-lab/` import map applies there), one per way a run can end.
 */
const CHECKPOINTS: Record<string, string> = {
  passes: `import { type Checkpoint, checkpoint } from "leak-lab/workshop/checkpoint.ts";
const step: Checkpoint = checkpoint({ step: "09-fake", edit: "answer.ts", database: false });
Deno.test(step.test("one passes", () => step.expect(true, "never")));
Deno.test(step.test("two passes", () => {}));
`,
  fails: `import { type Checkpoint, checkpoint } from "leak-lab/workshop/checkpoint.ts";
const step: Checkpoint = checkpoint({ step: "09-fake", edit: "answer.ts", database: false });
Deno.test(step.test("one passes", () => {}));
Deno.test(step.test("two fails", () => step.fail("Request 3 kept its connection.")));
`,
  "type-error": `const count: number = "three";
Deno.test("never runs", () => console.log(count));
`,
  "missing-module": `import { answer } from "./answer_that_is_not_there.ts";
Deno.test("never runs", () => console.log(answer));
`,
  "no-database": `import { type Checkpoint, checkpoint } from "leak-lab/workshop/checkpoint.ts";
const step: Checkpoint = checkpoint({ step: "09-fake", edit: "answer.ts" });
Deno.test(step.test("needs the database", () => step.fail("never reached")));
`,
  "leaks-a-timer": `import { type Checkpoint, checkpoint } from "leak-lab/workshop/checkpoint.ts";
const step: Checkpoint = checkpoint({ step: "09-fake", edit: "answer.ts", database: false });
Deno.test(step.test("passes but leaves a timer", () => {
  setTimeout(() => {}, 1_500);
}));
`,
  hangs: `Deno.test("hangs", async () => {
  await new Promise((resolve) => setTimeout(resolve, 60_000));
});
`,
};

Deno.test("runCheckpoint() tells passed, failed, broken and timed-out checkpoints apart", async () => {
  const dir = `${REPO_ROOT}/workshop-steps/.tmp-runner-test-${crypto.randomUUID().slice(0, 8)}`;
  await Deno.mkdir(dir, { recursive: true });
  try {
    for (const [name, source] of Object.entries(CHECKPOINTS)) {
      await Deno.writeTextFile(`${dir}/${name}_test.ts`, source);
    }
    const names = Object.keys(CHECKPOINTS);
    const runs: Record<string, CheckpointRun> = Object.fromEntries(
      await Promise.all(names.map(async (name) => [
        name,
        await runCheckpoint(`${dir}/${name}_test.ts`, {
          databaseUrl: "postgres://unused@127.0.0.1:1/none",
          cwd: REPO_ROOT,
          timeoutMs: name === "hangs" ? 6_000 : 60_000,
        }),
      ])),
    );

    assertEquals(runs.passes.outcome, "passed", runs.passes.output);
    assertEquals(runs.passes.code, 0);
    assertEquals(runs.passes.verdicts.map((v) => [v.step, v.test, v.passed]), [
      ["09-fake", "one passes", true],
      ["09-fake", "two passes", true],
    ]);

    assertEquals(runs.fails.outcome, "failed", runs.fails.output);
    assertEquals(runs.fails.code, 1);
    const [message] = failureMessages(runs.fails);
    assertStringIncludes(message, "Step 9 is not solved yet.\n\n  Request 3 kept its connection.");
    assertStringIncludes(
      message,
      "Edit workshop-steps/09-fake/answer.ts\nStuck? `deno task hint 9` gives the next hint.",
    );
    assertStringIncludes(runs.fails.output, "CheckpointFailure: Step 9");

    assertEquals(runs["no-database"].outcome, "setup", runs["no-database"].output);
    assertEquals(runs["no-database"].verdicts.map((v) => [v.setup, v.passed]), [[true, false]]);
    assertStringIncludes(runs["no-database"].verdicts[0].problem!, "The checkpoint could not get its PostgreSQL");
    assertStringIncludes(runs["no-database"].verdicts[0].problem!, "127.0.0.1:1");

    assertEquals(runs["type-error"].outcome, "broken");
    assertEquals(runs["type-error"].verdicts, []);
    assertMatch(brokenExcerpt(runs["type-error"].output), /TS2322/);
    assert(!brokenExcerpt(runs["type-error"].output).includes("Stack backtrace"));

    assertEquals(runs["missing-module"].outcome, "broken");
    assertMatch(runs["missing-module"].output, /TS2307 \[ERROR\]: Cannot find module .*answer_that_is_not_there\.ts/);
    assert(!runs["missing-module"].output.includes("\x1b["), "no colour codes in the output");

    assertEquals(runs["leaks-a-timer"].outcome, "broken", "every verdict passed, yet deno test failed the run");
    assertEquals(runs["leaks-a-timer"].verdicts.map((v) => v.passed), [true]);

    assertEquals(runs.hangs.outcome, "timeout");
    assertEquals(runs.hangs.code, undefined);
    assert(
      runs.hangs.durationMs < 20_000,
      `killed at the timeout, not after the test's 60 s (${runs.hangs.durationMs})`,
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("runCheckpoint() runs several checkpoint files in one process and verdictsOf() tells them apart", async () => {
  const dir = `${REPO_ROOT}/workshop-steps/.tmp-runner-test-${crypto.randomUUID().slice(0, 8)}`;
  await Deno.mkdir(dir, { recursive: true });
  try {
    const files = [`${dir}/a_test.ts`, `${dir}/b_test.ts`];
    await Deno.writeTextFile(files[0], CHECKPOINTS.passes);
    await Deno.writeTextFile(files[1], CHECKPOINTS.fails);
    const run = await runCheckpoint(files, { cwd: REPO_ROOT });
    assertEquals(run.outcome, "failed");
    assertEquals(verdictsOf(run, files[0]).map((v) => [v.test, v.passed]), [["one passes", true], [
      "two passes",
      true,
    ]]);
    assertEquals(verdictsOf(run, files[1]).map((v) => [v.test, v.passed]), [["one passes", true], [
      "two fails",
      false,
    ]]);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("runCheckpoint() rejects a timeout that is not a positive integer", async () => {
  await assertRejects(
    () => runCheckpoint("x_test.ts", { databaseUrl: "postgres://x@127.0.0.1/x", timeoutMs: 0 }),
    RangeError,
    "Cannot run checkpoint as 'timeoutMs' must be a positive integer: current value is 0",
  );
});
