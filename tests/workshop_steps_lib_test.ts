import { assert, assertEquals, assertRejects, assertThrows } from "@std/assert";
import {
  hintsSeen,
  loadProgress,
  markHintsSeen,
  markPassed,
  markPending,
  saveProgress,
  stepStatuses,
} from "../lib/workshop/progress.ts";
import { findStep, listSteps, parseHints, readWrongAttempt, stepLabel } from "../lib/workshop/steps.ts";
import { fakeStepsRepo } from "./support/fake_steps.ts";

Deno.test("listSteps() reads NN-slug folders in order, with hints and wrong attempts, and ignores copies and strays", async () => {
  const root = await fakeStepsRepo();
  try {
    const steps = await listSteps(`${root}/workshop-steps`);
    assertEquals(steps.map((s) => [s.label, s.id, s.title, s.files, s.wrong]), [
      ["1", "01-first-thing", "First thing", ["answer.ts"], ["off_by_one.ts"]],
      ["2", "02-second-thing", "Second thing", ["answer.ts"], []],
    ]);
    assertEquals(steps[0].checkpoint, `${root}/workshop-steps/01-first-thing/checkpoint_test.ts`);
    assertEquals(steps[1].hints, ["Look at 02-second-thing.\nTwice.", "42."]);
    assertEquals(await readWrongAttempt(steps[0], "off_by_one.ts"), {
      name: "off_by_one.ts",
      mistake: "one less than the answer.",
      expect: "41 is not 42",
    });
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});

Deno.test("listSteps() names the step and the missing piece when a step is incomplete", async () => {
  const root = await fakeStepsRepo();
  try {
    await Deno.remove(`${root}/workshop-steps/02-second-thing/answer.ts`);
    await assertRejects(
      () => listSteps(`${root}/workshop-steps`),
      Error,
      "Step 02-second-thing is incomplete: 02-second-thing/answer.ts cannot be read",
    );
    await Deno.writeTextFile(`${root}/workshop-steps/02-second-thing/answer.ts`, "export const answer = 0;\n");
    await Deno.writeTextFile(`${root}/workshop-steps/02-second-thing/hints.md`, "# Hints\n\nJust text, no sections.\n");
    await assertRejects(
      () => listSteps(`${root}/workshop-steps`),
      Error,
      'Step 02-second-thing is incomplete: hints.md has no "## Hint 1" section.',
    );
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});

Deno.test("parseHints() splits hints.md at its '## Hint N' headings, and readWrongAttempt() wants both header lines", async () => {
  assertEquals(parseHints("# Hints\n\n## Hint 1\n\nA nudge.\n\n## Hint 2 (closer)\n\nCloser.\nStill.\n"), [
    "A nudge.",
    "Closer.\nStill.",
  ]);
  assertEquals(parseHints("# Hints\n\nno sections"), []);
  const root = await fakeStepsRepo();
  try {
    const [step] = await listSteps(`${root}/workshop-steps`);
    await Deno.writeTextFile(`${step.dir}/wrong/off_by_one.ts`, "// Mistake: one less.\nexport const answer = 41;\n");
    await assertRejects(
      () => readWrongAttempt(step, "off_by_one.ts"),
      Error,
      'wrong/off_by_one.ts must start with a "// Mistake: …" line naming the mistake and a "// Expect: "…"" line',
    );
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});

Deno.test("findStep() accepts 3, 03, 1b or the folder name, and a step inserted as NNx- sorts after NN", async () => {
  const root = await fakeStepsRepo();
  try {
    // Inserting a step after step 1 without renumbering step 2: add the folder 01b-….
    await Deno.mkdir(`${root}/workshop-steps/01b-inserted`);
    for (const entry of Deno.readDirSync(`${root}/workshop-steps/01-first-thing`)) {
      if (entry.isFile) {
        await Deno.copyFile(
          `${root}/workshop-steps/01-first-thing/${entry.name}`,
          `${root}/workshop-steps/01b-inserted/${entry.name}`,
        );
      }
    }
    await Deno.mkdir(`${root}/workshop-steps/01b-inserted/solution`);
    await Deno.writeTextFile(`${root}/workshop-steps/01b-inserted/solution/answer.ts`, "export const answer = 42;\n");
    await Deno.writeTextFile(`${root}/workshop-steps/01b-inserted/README.md`, "# Step 1b — Inserted thing\n");
    const steps = await listSteps(`${root}/workshop-steps`);
    assertEquals(steps.map((s) => s.label), ["1", "1b", "2"]);
    assertEquals(steps.map((s) => s.title), ["First thing", "Inserted thing", "Second thing"]);
    assertEquals(findStep(steps, "2").id, "02-second-thing");
    assertEquals(findStep(steps, "02").id, "02-second-thing");
    assertEquals(findStep(steps, "1B").id, "01b-inserted");
    assertEquals(findStep(steps, "01-first-thing").label, "1");
    assertThrows(
      () => findStep(steps, "7"),
      RangeError,
      `There is no step "7". Name a step by its number or folder: 1 (01-first-thing), 1b (01b-inserted), 2 (02-second-thing).`,
    );
    assertThrows(() => stepLabel("3-short"), RangeError, `"3-short" is not a step folder name`);
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});

Deno.test("progress survives a save and a load, and a corrupt file says how to start over", async () => {
  const root = await fakeStepsRepo();
  const file = `${root}/.leaklab/progress.json`;
  try {
    assertEquals(await loadProgress(file), { version: 1, passed: {} }, "no file yet: nothing passed");
    const [first] = await listSteps(`${root}/workshop-steps`);
    const passed = await markPassed(await loadProgress(file), first, new Date("2026-11-27T10:00:00Z"));
    await saveProgress(passed, file);
    const reloaded = await loadProgress(file);
    assertEquals(reloaded, passed);
    assertEquals(reloaded.passed["01-first-thing"].at, "2026-11-27T10:00:00.000Z");
    assertEquals(Object.keys(reloaded.passed["01-first-thing"].files), ["answer.ts"]);
    assertEquals(markPending(reloaded, first).passed, {});

    await Deno.writeTextFile(file, "{ not json");
    await assertRejects(() => loadProgress(file), Error, "is not Leak Lab progress");
    await Deno.writeTextFile(file, JSON.stringify({ version: 1, passed: {}, hintsSeen: { x: -1 } }));
    await assertRejects(() => loadProgress(file), Error, "is not Leak Lab progress");
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});

Deno.test("markHintsSeen() counts hints seen per step, never down and never past the last", async () => {
  const root = await fakeStepsRepo();
  try {
    const [first, second] = await listSteps(`${root}/workshop-steps`);
    let progress = await loadProgress(`${root}/.leaklab/progress.json`);
    assertEquals(hintsSeen(progress, first), 0);
    progress = markHintsSeen(progress, first, 1);
    assertEquals([hintsSeen(progress, first), hintsSeen(progress, second)], [1, 0]);
    assertEquals(hintsSeen(markHintsSeen(progress, first, 0), first), 1, "seeing fewer does not forget");
    assertEquals(hintsSeen(markHintsSeen(progress, first, 9), first), 2, "at most the step's 2 hints");
    assertEquals(markPending(progress, first).hintsSeen, { "01-first-thing": 1 }, "a reset keeps the hints seen");
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});

Deno.test("stepStatuses() marks passed steps done, the first other one next, and an edited passed step not done", async () => {
  const root = await fakeStepsRepo();
  try {
    const steps = await listSteps(`${root}/workshop-steps`);
    const fresh = await stepStatuses(steps, { version: 1, passed: {} });
    assertEquals(fresh.map((s) => s.state), ["next", "pending"]);

    const progress = await markPassed({ version: 1, passed: {} }, steps[0]);
    assertEquals((await stepStatuses(steps, progress)).map((s) => [s.state, s.editedSincePass]), [
      ["done", false],
      ["next", false],
    ]);

    await Deno.writeTextFile(`${steps[0].dir}/answer.ts`, "export const answer = 41;\n");
    const edited = await stepStatuses(steps, progress);
    assertEquals(edited.map((s) => [s.state, s.editedSincePass]), [["next", true], ["pending", false]]);
    assert(!edited.some((s) => s.state === "done"));
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});
