/**
 * `deno task attempts <step> <folder|file>…`: runs a step's checkpoint on each
 * attempt (a whole version of the learner's file) and prints, per attempt,
 * whether it passed and the first line of what the checkpoint said. For step
 * authors and red teams: a folder of attempts nobody on the team wrote shows
 * at once which wrong ones pass and which correct ones are rejected.
 *
 * An attempt whose first line starts `// Correct:` is expected to pass, any
 * other to fail; the summary counts the surprises. `--json FILE` writes every
 * verdict with its whole message. Exits 1 when any attempt surprised.
 *
 * @module
 */
import { parseArgs } from "node:util";
import { failureMessages, runVariants, verdictsOf } from "../lib/workshop/checkpoint_runner.ts";
import { findStep, listSteps } from "../lib/workshop/steps.ts";

const { values, positionals } = parseArgs({
  args: Deno.args,
  allowPositionals: true,
  options: { json: { type: "string" }, batch: { type: "string", default: "8" } },
});
const [stepArg, ...paths] = positionals;
if (!stepArg || paths.length === 0) {
  console.error("Usage: deno task attempts <step> <folder or .ts file>… [--json FILE] [--batch N]");
  console.error("Example: deno task attempts 3 workshop-steps/03-fix-with-finally/wrong");
  Deno.exit(2);
}
const batch = Number(values.batch);
if (!Number.isInteger(batch) || batch < 1) {
  console.error(`--batch must be a positive integer (attempts per deno test process): got "${values.batch}"`);
  Deno.exit(2);
}

const step = findStep(await listSteps(), stepArg);
const files: string[] = [];
for (const path of paths) {
  const info = await Deno.stat(path).catch(() => undefined);
  if (!info) {
    console.error(`No such file or folder: ${path}`);
    Deno.exit(2);
  }
  if (info.isFile) files.push(path);
  else {
    for await (const entry of Deno.readDir(path)) {
      if (entry.isFile && entry.name.endsWith(".ts")) files.push(`${path}/${entry.name}`);
    }
  }
}
files.sort();

interface AttemptVerdict {
  file: string;
  expected: "pass" | "fail";
  outcome: string;
  message?: string;
}
const results: AttemptVerdict[] = [];
for (let i = 0; i < files.length; i += batch) {
  const chunk = files.slice(i, i + batch).map((file) => Deno.realPathSync(file));
  const { run, files: checkpoints } = await runVariants(step, chunk);
  for (const [j, file] of chunk.entries()) {
    const verdicts = verdictsOf(run, checkpoints[j]);
    const [message] = failureMessages({ verdicts });
    const firstLine = (await Deno.readTextFile(file)).split("\n", 1)[0];
    results.push({
      file: files[i + j],
      expected: firstLine.startsWith("// Correct:") ? "pass" : "fail",
      outcome: verdicts.length === 0 ? run.outcome : message === undefined ? "passed" : "failed",
      message: message ?? (verdicts.length === 0 ? run.output.slice(-2000) : undefined),
    });
  }
}

let surprises = 0;
for (const result of results) {
  const surprise = result.expected === "pass" ? result.outcome !== "passed" : result.outcome !== "failed";
  if (surprise) surprises++;
  const said = result.message?.split("\n").find((line) => line.trim() && !line.startsWith("Step ")) ?? "";
  console.log(
    `${surprise ? "✗" : "✓"} ${result.outcome.padEnd(7)} ${result.file}${said ? `\n    ${said.trim()}` : ""}`,
  );
}
const wrong = results.filter((r) => r.expected === "fail");
const correct = results.filter((r) => r.expected === "pass");
console.log(
  `\nStep ${step.label}: ${wrong.filter((r) => r.outcome === "passed").length} of ${wrong.length} wrong attempts ` +
    `passed; ${correct.filter((r) => r.outcome !== "passed").length} of ${correct.length} correct attempts rejected.`,
);
if (values.json) await Deno.writeTextFile(values.json, JSON.stringify(results, null, 2));
Deno.exit(surprises > 0 ? 1 : 0);
