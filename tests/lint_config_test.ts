/**
 * Where `leak-lab/release-on-every-path` runs. `deno.json` runs it on the
 * project and excludes the code that leaks on purpose; `lint/deliberate_leaks.json`
 * lints exactly that code, plugin included. These tests prove both halves: the
 * deliberate leaks are reported, and nothing else is lost by the exclusion.
 */
import { assert, assertEquals } from "@std/assert";
import { RULE_ID } from "../lint/leak_lab.ts";

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
