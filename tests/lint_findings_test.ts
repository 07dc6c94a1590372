/**
 * `lib/workshop/lint_findings.ts`: the rule's reports as a checkpoint reads
 * them (line, function, shape in workshop words, the rule's own message and
 * hint), whatever ignore comments say, and the ignore comments that would
 * hide the rule from `deno lint`.
 */
import { assertEquals } from "@std/assert";
import plugin, { LEAK_SHAPES } from "../lint/leak_lab.ts";
import { leakIgnoreComments, lintLeaks, SHAPE_WORDS } from "../lib/workshop/lint_findings.ts";

const lines = (...code: string[]) => code.join("\n") + "\n";

const TWO_LEAKS = lines(
  "export async function count(pool) {",
  "  // deno-lint-ignore leak-lab/release-on-every-path",
  "  const conn = await pool.acquire();",
  "  return (await conn.query('SELECT count(*) FROM sensors')).rows;",
  "}",
  "",
  "export const read = async (pool) => {",
  "  const conn = await pool.acquire();",
  "  try {",
  "    return await conn.query('SELECT 1');",
  "  } catch (error) {",
  "    conn.release();",
  "    throw error;",
  "  }",
  "};",
  "",
  "export async function fine(pool) {",
  "  await using conn = await pool.acquire();",
  "  return (await conn.query('SELECT 1')).rows;",
  "}",
);

Deno.test("lintLeaks() lists each report with its line, function, shape and the rule's words, ignore comments or not", () => {
  const rule = Deno.lint.runPlugin(plugin, "dashboard.ts", TWO_LEAKS);
  const found = lintLeaks("dashboard.ts", TWO_LEAKS);
  assertEquals(found.map((f) => [f.line, f.inFunction, f.shape.id, f.words]), [
    [3, "count()", "never-released", "never released"],
    [8, "read()", "only-in-catch", "released only when something fails (in `catch`)"],
  ]);
  // The rule's own message and hint, unchanged: the checkpoint quotes them.
  assertEquals(found.map((f) => [f.message, f.hint]), rule.map((d) => [d.message, d.hint]));
  assertEquals(
    lintLeaks("clean.ts", lines("export async function fine(pool) {", "  await using c = await pool.acquire();", "}")),
    [],
  );
});

Deno.test("SHAPE_WORDS names every shape the rule knows, each in its own words", () => {
  assertEquals(Object.keys(SHAPE_WORDS).sort(), Object.keys(LEAK_SHAPES).sort());
  const words = Object.values(SHAPE_WORDS);
  assertEquals(new Set(words).size, words.length);
});

Deno.test("leakIgnoreComments() finds the comments that would hide the rule from deno lint, and only those", () => {
  const source = lines(
    "// deno-lint-ignore-file no-console",
    "// deno-lint-ignore leak-lab/release-on-every-path",
    "//deno-lint-ignore",
    "// deno-lint-ignore no-explicit-any, leak-lab/release-on-every-path -- the legacy API",
    "// deno-lint-ignore no-explicit-any -- says leak-lab/release-on-every-path after the dashes",
    "/* deno-lint-ignore leak-lab/release-on-every-path */ (deno lint reads no block comments)",
    "// deno-lint-ignore-file",
    "// deno-lint-ignore-files is no directive",
  );
  assertEquals(leakIgnoreComments(source), [
    { line: 2, text: "// deno-lint-ignore leak-lab/release-on-every-path", file: false },
    { line: 3, text: "//deno-lint-ignore", file: false },
    {
      line: 4,
      text: "// deno-lint-ignore no-explicit-any, leak-lab/release-on-every-path -- the legacy API",
      file: false,
    },
    { line: 7, text: "// deno-lint-ignore-file", file: true },
  ]);
});
