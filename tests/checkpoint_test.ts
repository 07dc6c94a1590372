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
  messageDefects,
  REPORT_ENV,
} from "../lib/workshop/checkpoint.ts";
import { sqlstate } from "../lib/database.ts";
import { describeError, firstSentence, listOf, ms, shown } from "../lib/workshop/checkpoint_checks.ts";
import { PoolExhaustedError } from "../lib/pool.ts";

function fixture(): Checkpoint {
  return checkpoint({ step: "03-fix-with-finally", edit: "list_sensors.ts", database: false });
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
    () => checkpoint({ step: "fix-with-finally", edit: "a.ts", database: false }),
    RangeError,
    `'step' must be a step folder name like "03-fix-with-finally": current value is "fix-with-finally"`,
  );
  assertThrows(() => checkpoint({ step: "03-x", edit: "", database: false }), RangeError, "'edit' must name the file");
  assertEquals(fixture().label, "3");
});

Deno.test("step.expect() throws a CheckpointFailure naming the problem, the file to edit and the hint command, not a hint", () => {
  const step: Checkpoint = fixture();
  step.expect(true, "never shown");
  let built = 0;
  step.expect(1, () => `built ${++built}`);
  assertEquals(built, 0, "the problem text is built only when the check fails");
  const failure = assertThrows(() => step.expect(false, () => "Request 3 kept its connection."), CheckpointFailure);
  assertEquals(failure.name, "CheckpointFailure");
  assertEquals(failure.step, "03-fix-with-finally");
  assertEquals(failure.problem, "Request 3 kept its connection.");
  assertEquals(
    failure.message,
    "Step 3 is not solved yet.\n\n  Request 3 kept its connection.\n\n" +
      "Edit workshop-steps/03-fix-with-finally/list_sensors.ts\nStuck? `deno task hint 3` gives the next hint.\n" +
      `These scenarios came from seed ${step.seed}: \`LEAKLAB_SEED=${step.seed} deno task check 3\` runs them again.\n`,
  );
  const cause = new Error("underlying");
  assertEquals(assertThrows(() => step.fail("Nope.", cause), CheckpointFailure).cause, cause);
});

Deno.test("step.test() runs with sanitizers, records a verdict per test with what the code printed, and turns a throw into a CheckpointFailure", async () => {
  const step = fixture();
  const passing = step.test("passes", () => console.log("learner says %s", "hi"));
  const failing = step.test("fails", () => {
    console.error({ rows: 2 });
    step.fail("It leaked.");
  });
  const crashing = step.test("crashes", () => {
    throw new TypeError("rows is not iterable");
  });
  assertEquals([passing.name, passing.sanitizeOps, passing.sanitizeResources], ["passes", true, true]);
  let crash: unknown;
  const original = console.log;
  const verdicts = await withReport(async () => {
    await passing.fn!({} as Deno.TestContext);
    await assertRejects(async () => await failing.fn!({} as Deno.TestContext), CheckpointFailure, "It leaked.");
    crash = await Promise.resolve(crashing.fn!({} as Deno.TestContext)).catch((error: unknown) => error);
  });
  assertEquals(console.log, original, "console is restored after each test");
  assertInstanceOf(crash, CheckpointFailure);
  assertStringIncludes(crash.message, "The checkpoint stopped because this was thrown:\n    TypeError: rows is not");
  assertStringIncludes(crash.message, "Edit workshop-steps/03-fix-with-finally/list_sensors.ts");
  assertInstanceOf(crash.cause, TypeError);
  assertEquals(verdicts.map((v) => [v.test, v.passed, v.problem, v.output]), [
    ["passes", true, undefined, ["learner says hi"]],
    ["fails", false, "It leaked.", ["{ rows: 2 }"]],
    ["crashes", false, crash.problem, []],
  ]);
  assertEquals(verdicts[0].module, Deno.mainModule);
  assertStringIncludes(verdicts[1].message!, "Stuck? `deno task hint 3`");
});

Deno.test("messageDefects() finds unfilled values and doubled full stops, and lets code-quoted `undefined` through", () => {
  assertEquals(messageDefects("Request 3 kept connection #undefined."), ["prints undefined"]);
  assertEquals(messageDefects("It was NaN %."), ["prints NaN"]);
  assertEquals(messageDefects("called twice.. Release it."), ["has a doubled full stop"]);
  assertEquals(messageDefects("called twice. . Release it."), ["has a doubled full stop"]);
  assertEquals(messageDefects("findExhaustion() returned `undefined` … and so on..."), []);
  assertEquals(messageDefects("1.5 s. Then 2 of 5 (40 %)."), []);
});

Deno.test("sqlstate(), describeError(), firstSentence(), shown(), ms() and listOf() word values for learners", () => {
  const pgError = Object.assign(new Error("canceling statement due to statement timeout"), { code: "57014" });
  assertEquals(sqlstate(pgError), "57014");
  assertEquals(sqlstate(Object.assign(new Error("x"), { code: "ECONNREFUSED" })), undefined);
  assertEquals(sqlstate(undefined), undefined);
  assertEquals(describeError(pgError), "SQLSTATE 57014 (canceling statement due to statement timeout)");
  assertEquals(describeError(new RangeError("bad\nsecond line")), "RangeError: bad");
  assertEquals(describeError(new Error("Already returned. Release once.")), "Error: Already returned", "no full stop");
  assertEquals(describeError(undefined), "no error");
  const stats = { max: 1, total: 1, idle: 0, active: 1, available: 0, leaked: 1, waiting: 0 };
  assertEquals(
    describeError(new PoolExhaustedError("p", 301.4, stats, [])),
    'PoolExhaustedError: pool "p" had no connection free for 301 ms (1 of 1 out, 1 leaked)',
  );
  assertEquals(
    firstSentence(new Error("Connection #1 was already returned. Release each once.")),
    "Connection #1 was already returned",
  );
  assertEquals(shown(undefined), "`undefined`");
  assertEquals(shown([1, 2]), "[1,2]");
  assertEquals(shown("x".repeat(100), 10), `"xxxxxxxx…`);
  assertEquals(ms(5.94), "5.9 ms");
  assertEquals(listOf([]), "none");
  assertEquals(listOf([2, 4, 6]), "2, 4, 6");
  assertEquals(listOf([1, 2, 3, 4], 2), "1, 2, … (4 in all)");
  assertNotEquals(describeError("plain"), "");
  assert(messageDefects(describeError(pgError) + ".").length === 0);
});
