import { assert, assertEquals, assertRejects, assertThrows } from "@std/assert";
import { loadProgress, markPassed, markPending, saveProgress, stepStatuses } from "../lib/workshop/progress.ts";
import { findStep, listSteps, readHint } from "../lib/workshop/steps.ts";
import { fakeStepsRepo } from "./support/fake_steps.ts";

Deno.test("listSteps() reads NN-slug folders in order and ignores temporary copies and stray files", async () => {
  const root = await fakeStepsRepo();
  try {
    const steps = await listSteps(root);
    assertEquals(steps.map((s) => [s.number, s.id, s.title, s.files]), [
      [1, "01-first-thing", "First thing", ["answer.ts"]],
      [2, "02-second-thing", "Second thing", ["answer.ts"]],
    ]);
    assertEquals(steps[0].checkpoint, `${root}/workshop-steps/01-first-thing/checkpoint_test.ts`);
    assertEquals(await readHint(steps[1]), "Look at 02-second-thing.\nTwice.");
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});

Deno.test("listSteps() names the step and the file when a step is incomplete", async () => {
  const root = await fakeStepsRepo();
  try {
    await Deno.remove(`${root}/workshop-steps/02-second-thing/answer.ts`);
    await assertRejects(
      () => listSteps(root),
      Error,
      "Step 02-second-thing is incomplete: 02-second-thing/answer.ts cannot be read",
    );
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});

Deno.test("findStep() accepts 3, 03 or the folder name, and lists the steps when none matches", async () => {
  const root = await fakeStepsRepo();
  try {
    const steps = await listSteps(root);
    assertEquals(findStep(steps, "2").id, "02-second-thing");
    assertEquals(findStep(steps, "02").id, "02-second-thing");
    assertEquals(findStep(steps, "01-first-thing").number, 1);
    assertThrows(
      () => findStep(steps, "7"),
      RangeError,
      `There is no step "7". Name a step by its number or folder: 1 (01-first-thing), 2 (02-second-thing).`,
    );
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});

Deno.test("progress survives a save and a load, and a corrupt file says how to start over", async () => {
  const root = await fakeStepsRepo();
  const file = `${root}/.leaklab/progress.json`;
  try {
    assertEquals(await loadProgress(file), { version: 1, passed: {} }, "no file yet: nothing passed");
    const [first] = await listSteps(root);
    const passed = await markPassed(await loadProgress(file), first, new Date("2026-11-27T10:00:00Z"));
    await saveProgress(passed, file);
    const reloaded = await loadProgress(file);
    assertEquals(reloaded, passed);
    assertEquals(reloaded.passed["01-first-thing"].at, "2026-11-27T10:00:00.000Z");
    assertEquals(Object.keys(reloaded.passed["01-first-thing"].files), ["answer.ts"]);
    assertEquals(markPending(reloaded, first).passed, {});

    await Deno.writeTextFile(file, "{ not json");
    await assertRejects(() => loadProgress(file), Error, "is not Leak Lab progress");
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});

Deno.test("stepStatuses() marks passed steps done, the first other one next, and an edited passed step not done", async () => {
  const root = await fakeStepsRepo();
  try {
    const steps = await listSteps(root);
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
