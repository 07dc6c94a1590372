/**
 * A repository-shaped temp folder with two tiny workshop steps, for testing
 * the step catalog, progress and reset without touching the real steps.
 *
 * @module
 */

/**
 * Creates the folder; the caller removes it. Each step's starter is
 * `answer.ts` (0), its solution 42, with two hints and (step 1) one wrong attempt.
 */
export async function fakeStepsRepo(): Promise<string> {
  const root = await Deno.makeTempDir({ prefix: "leaklab-steps-" });
  const steps = [["01-first-thing", "Step 1 — First thing"], ["02-second-thing", "Step 2 — Second thing"]];
  for (const [id, title] of steps) {
    const dir = `${root}/workshop-steps/${id}`;
    await Deno.mkdir(`${dir}/solution`, { recursive: true });
    await Deno.writeTextFile(`${dir}/README.md`, `# ${title}\n\nEdit workshop-steps/${id}/answer.ts\n`);
    await Deno.writeTextFile(`${dir}/hints.md`, `# Hints\n\n## Hint 1\n\nLook at ${id}.\nTwice.\n\n## Hint 2\n\n42.\n`);
    await Deno.writeTextFile(`${dir}/checkpoint_test.ts`, `import "./answer.ts";\n`);
    await Deno.writeTextFile(`${dir}/answer.ts`, "export const answer = 0; // BUG\n");
    await Deno.writeTextFile(`${dir}/solution/answer.ts`, "export const answer = 42;\n");
  }
  await Deno.mkdir(`${root}/workshop-steps/01-first-thing/wrong`);
  await Deno.writeTextFile(
    `${root}/workshop-steps/01-first-thing/wrong/off_by_one.ts`,
    '// Mistake: one less than the answer.\n// Expect: "41 is not 42"\nexport const answer = 41;\n',
  );
  // What a test run leaves while it runs, and a stray file: neither is a step.
  await Deno.mkdir(`${root}/workshop-steps/.tmp-01-first-thing-solution-1234/solution`, { recursive: true });
  await Deno.writeTextFile(`${root}/workshop-steps/notes.md`, "not a step\n");
  return root;
}
