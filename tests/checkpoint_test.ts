import {
  assert,
  assertEquals,
  assertInstanceOf,
  assertNotEquals,
  assertRejects,
  assertStringIncludes,
  assertThrows,
} from "@std/assert";
import {
  type Checkpoint,
  checkpoint,
  CheckpointFailure,
  type CheckpointVerdict,
  REPORT_ENV,
} from "../lib/workshop/checkpoint.ts";
import { sqlstate } from "../lib/database.ts";
import { describeError, listOf } from "../lib/workshop/checkpoint_checks.ts";

const HINT = new URL("../workshop-steps/03-fix-with-finally/hint.md", import.meta.url);

function fixture(): Checkpoint {
  return checkpoint({ step: "03-fix-with-finally", edit: "list_sensors.ts", hint: HINT });
}

/** Runs `fn` with the checkpoint report going to a fresh file; returns the verdicts written. */
async function withReport(fn: () => Promise<void>): Promise<CheckpointVerdict[]> {
  const file = await Deno.makeTempFile({ suffix: ".jsonl" });
  const before = Deno.env.get(REPORT_ENV);
  Deno.env.set(REPORT_ENV, file);
  try {
    await fn();
    return (await Deno.readTextFile(file)).trim().split("\n").filter(Boolean).map((line) => JSON.parse(line));
  } finally {
    if (before === undefined) Deno.env.delete(REPORT_ENV);
    else Deno.env.set(REPORT_ENV, before);
    await Deno.remove(file);
  }
}

Deno.test("checkpoint() rejects a step that is not an NN-slug folder, and an empty file name", () => {
  assertThrows(
    () => checkpoint({ step: "fix-with-finally", edit: "a.ts", hint: HINT }),
    RangeError,
    `'step' must be a step folder name like "03-fix-with-finally": current value is "fix-with-finally"`,
  );
  assertThrows(() => checkpoint({ step: "03-x", edit: "", hint: HINT }), RangeError, "'edit' must name the file");
  assertThrows(
    () => checkpoint({ step: "03-x", edit: "a.ts", hint: new URL("file:///nonexistent/hint.md") }),
    Error,
    "Cannot read the step's hint at /nonexistent/hint.md",
  );
});

Deno.test("step.expect() throws a CheckpointFailure naming the problem, the file to edit and the hint", () => {
  const step: Checkpoint = fixture();
  step.expect(true, "never shown");
  let built = 0;
  step.expect(1, () => `built ${++built}`);
  assertEquals(built, 0, "the problem text is built only when the check fails");
  const failure = assertThrows(() => step.expect(false, () => "Request 3 kept its connection."), CheckpointFailure);
  assertEquals(failure.name, "CheckpointFailure");
  assertEquals(failure.step, "03-fix-with-finally");
  assertEquals(failure.problem, "Request 3 kept its connection.");
  assert(failure.message.startsWith("Step 03-fix-with-finally is not solved yet.\n\n  Request 3 kept its connection."));
  assertStringIncludes(failure.message, "\nEdit workshop-steps/03-fix-with-finally/list_sensors.ts\n");
  assertStringIncludes(failure.message, "Hint:\n  Put everything after `pool.acquire()`");
  assert(!failure.message.includes("# Hint"), "the hint's heading is left out");
  const cause = new Error("underlying");
  assertEquals(assertThrows(() => step.fail("Nope.", cause), CheckpointFailure).cause, cause);
});

Deno.test("step.test() records a verdict per test and turns a thrown learner error into a CheckpointFailure", async () => {
  const step = fixture();
  const passing = step.test("passes", () => {});
  const failing = step.test("fails", () => step.fail("It leaked."));
  const crashing = step.test("crashes", () => {
    throw new TypeError("rows is not iterable");
  });
  assertEquals(passing.name, "passes");
  let crash: unknown;
  const verdicts = await withReport(async () => {
    await passing.fn!({} as Deno.TestContext);
    await assertRejects(async () => await failing.fn!({} as Deno.TestContext), CheckpointFailure, "It leaked.");
    crash = await Promise.resolve(crashing.fn!({} as Deno.TestContext)).catch((error: unknown) => error);
  });
  assertInstanceOf(crash, CheckpointFailure);
  assertStringIncludes(crash.message, "The checkpoint stopped because this was thrown:\n    TypeError: rows is not");
  assertStringIncludes(crash.message, "Edit workshop-steps/03-fix-with-finally/list_sensors.ts");
  assertInstanceOf(crash.cause, TypeError);
  assertEquals(verdicts.map((v) => [v.test, v.passed, v.problem]), [
    ["passes", true, undefined],
    ["fails", false, "It leaked."],
    ["crashes", false, crash.problem],
  ]);
  assertStringIncludes(verdicts[1].message!, "Hint:");
});

Deno.test("sqlstate(), describeError() and listOf() word errors and lists for learners", () => {
  const pgError = Object.assign(new Error("canceling statement due to statement timeout"), { code: "57014" });
  assertEquals(sqlstate(pgError), "57014");
  assertEquals(sqlstate(Object.assign(new Error("x"), { code: "ECONNREFUSED" })), undefined);
  assertEquals(sqlstate(undefined), undefined);
  assertEquals(describeError(pgError), "SQLSTATE 57014 (canceling statement due to statement timeout)");
  assertEquals(describeError(new RangeError("bad\nsecond line")), "RangeError: bad");
  assertEquals(describeError(undefined), "no error");
  assertEquals(listOf([]), "none");
  assertEquals(listOf([2, 4, 6]), "2, 4, 6");
  assertEquals(listOf([1, 2, 3, 4], 2), "1, 2, … (4 in all)");
  assertNotEquals(describeError("plain"), "");
});
