/**
 * Where `leak-lab/release-on-every-path` runs. `deno.json` runs it on the
 * project and excludes the code that leaks on purpose; `lint/deliberate_leaks.json`
 * lints exactly that code, plugin included. These tests prove both halves: the
 * deliberate leaks are reported, and nothing else is lost by the exclusion.
 */
import { assert, assertEquals } from "@std/assert";
import { RULE_ID, shapeOf } from "../lint/leak_lab.ts";

const ROOT = new URL("../", import.meta.url);

interface Diagnostic {
  filename: string;
  code: string;
  message: string;
  range: { start: { line: number } };
}

interface LintJson {
  diagnostics: Diagnostic[];
  errors: unknown[];
  checked_files: string[];
}

async function lint(...args: string[]): Promise<LintJson> {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["lint", "--json", ...args],
    cwd: ROOT.pathname,
    stdout: "piped",
    stderr: "piped",
  }).output();
  return JSON.parse(new TextDecoder().decode(out.stdout));
}

const relative = (file: string) => file.replace(/^file:\/\//, "").replace(ROOT.pathname, "");

/** The 1-based line of the first `needle` after `after` in `file`. */
async function lineOf(file: string, after: string, needle: string): Promise<number> {
  const text = await Deno.readTextFile(new URL(file, ROOT));
  const at = text.indexOf(needle, text.indexOf(after));
  assert(text.indexOf(after) >= 0 && at >= 0, `${file} has "${after}" … "${needle}"`);
  return text.slice(0, at).split("\n").length;
}

Deno.test("deno lint runs the plugin on the project and reports nothing", async () => {
  const config = JSON.parse(await Deno.readTextFile(new URL("deno.json", ROOT)));
  assertEquals(config.lint.plugins, ["./lint/leak_lab.ts"]);
  const result = await lint();
  assertEquals(result.errors, []);
  assertEquals(result.diagnostics, []);
  // The project's own leases and every step solution are linted, with the rule (an excluded file would be refused).
  const own = await lint("lib/pool.ts", "bench/service_bench.ts", "workshop-steps/03-fix-with-finally/solution/");
  assertEquals([own.errors, own.diagnostics], [[], []]);
});

Deno.test("lint/deliberate_leaks.json reports the deliberate leaks, and only the rule's", async () => {
  const result = await lint("--config", "lint/deliberate_leaks.json");
  assertEquals(result.errors, []);
  // The built-in rules still pass on the excluded files: the exclusion hides nothing else.
  assertEquals(result.diagnostics.filter((d) => d.code !== RULE_ID), []);

  const at = (file: string) =>
    result.diagnostics.filter((d) => relative(d.filename) === file).map((d) => d.range.start.line);
  const handlers = "lib/demo/query_handlers.ts";
  assertEquals(at(handlers), [await lineOf(handlers, "function badQueryWithLeak", "await pool.acquire()")]);
  const step3 = "workshop-steps/03-fix-with-finally/list_sensors.ts";
  assertEquals(at(step3), [await lineOf(step3, "function listSensors", "await pool.acquire()")]);
  const step4 = "workshop-steps/04-fix-with-await-using/sensor_report.ts";
  assertEquals(at(step4), [await lineOf(step4, "function sensorReport", "await primary.acquire()")]);

  const bad = result.diagnostics.find((d) => relative(d.filename) === handlers)!;
  assertEquals(
    bad.message,
    "`conn` is released only on the success path: if `await readSensors(conn, faults)` " +
      `(line ${bad.range.start.line + 1}) throws, \`conn.release()\` (line ${bad.range.start.line + 4}) is never ` +
      "reached and the connection leaks.",
  );
});

const STEP_4B = "workshop-steps/04b-lint-clean";
/** The shape ids of the rule's reports on `file`, in line order. */
const shapesIn = (result: LintJson, file: string) =>
  result.diagnostics
    .filter((d) => relative(d.filename) === file)
    .sort((a, b) => a.range.start.line - b.range.start.line)
    .map((d) => shapeOf(d.message)?.id ?? `(no shape: ${d.message})`);
const STARTER_4B_SHAPES = [
  "only-on-success",
  "only-in-catch",
  "only-in-callback",
  "unawaited-return",
  "throws-before-try",
];

Deno.test("step 4b: its lint.json runs the rule on the learner's file alone, and finds the five leak shapes", async () => {
  const result = await lint("--config", `${STEP_4B}/lint.json`);
  assertEquals(result.errors, []);
  // `checked_files` lists the files with a report: the learner's file, and no other.
  assertEquals(result.checked_files.map(relative), [`${STEP_4B}/sensor_dashboard.ts`]);
  assertEquals(result.diagnostics.filter((d) => d.code !== RULE_ID), [], "the built-in rules pass on the starter");
  assertEquals(shapesIn(result, `${STEP_4B}/sensor_dashboard.ts`), STARTER_4B_SHAPES);
});

/** `deno lint --json [--config config] file`: the rule's report, or "excluded" when the config does not lint `file`. */
async function lintOne(file: string, config?: string): Promise<LintJson | "excluded"> {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["lint", "--json", ...(config ? ["--config", config] : []), file],
    cwd: ROOT.pathname,
    stdout: "piped",
    stderr: "piped",
  }).output();
  if (new TextDecoder().decode(out.stderr).includes("No target files found")) return "excluded";
  return JSON.parse(new TextDecoder().decode(out.stdout));
}

Deno.test("step 4b: the project's lint skips its starter and wrong attempts and lints its solution; deliberate_leaks.json lints them all", async () => {
  const wrong = [...Deno.readDirSync(new URL(`${STEP_4B}/wrong/`, ROOT))].map((e) => e.name).sort();
  const leaking = [`${STEP_4B}/sensor_dashboard.ts`, ...wrong.map((name) => `${STEP_4B}/wrong/${name}`)];
  // A directory walk skips them (a file named outright under an excluded folder is still linted: Deno matches the
  // folder, not the file, against `workshop-steps/*/wrong/`).
  assertEquals(await lintOne(`${STEP_4B}/sensor_dashboard.ts`), "excluded", "deno lint skips the starter");
  assertEquals(await lintOne(`${STEP_4B}/wrong/`), "excluded", "deno lint skips the wrong attempts");
  const folder = await lintOne(`${STEP_4B}/`);
  assert(folder !== "excluded", "deno lint walks the step folder");
  assertEquals([folder.errors, folder.diagnostics], [[], []], "and finds no leak in what it lints there");
  const solution = await lintOne(`${STEP_4B}/solution/sensor_dashboard.ts`);
  assert(solution !== "excluded", "deno lint lints the solution, rule included");
  assertEquals([solution.errors, solution.diagnostics], [[], []]);

  // Every deliberate leak is linted there. The rule rejects two wrong attempts; the other six are lint-clean, and only
  // the checkpoint catches them: its behaviour test, or (ignore_comments.ts) its refusal of deno-lint-ignore.
  const reported: Record<string, string[]> = {};
  for (const file of leaking) {
    const result = await lintOne(file, "lint/deliberate_leaks.json");
    assert(result !== "excluded", `lint/deliberate_leaks.json lints ${file}`);
    assertEquals(result.diagnostics.filter((d) => d.code !== RULE_ID), [], `only the rule reports on ${file}`);
    reported[file.slice(STEP_4B.length + 1)] = shapesIn(result, file);
  }
  // The team's first attempts, shape by shape; the red teams' later ones are judged by the checkpoint (CI proves each
  // fails there) and only need to lint with nothing but the rule reporting, as checked above.
  const known = {
    "sensor_dashboard.ts": STARTER_4B_SHAPES,
    "wrong/await_using_on_the_pool.ts": [],
    "wrong/deletes_the_begin.ts": [],
    "wrong/drops_the_rollback.ts": [],
    "wrong/fixes_only_the_tested_paths.ts": ["throws-before-try"],
    "wrong/ignore_comments.ts": [],
    "wrong/releases_twice.ts": [],
    "wrong/returns_without_await.ts": ["unawaited-return"],
    "wrong/swallows_the_error.ts": [],
  };
  assertEquals(Object.fromEntries(Object.keys(known).map((file) => [file, reported[file]])), known);
  assertEquals(Object.keys(reported).length, wrong.length + 1, "every wrong attempt was linted");
});
