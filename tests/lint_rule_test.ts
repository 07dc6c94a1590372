/**
 * Runs the corpus of `leak-lab/release-on-every-path` (tests/lint_corpus.ts) through the rule under `deno lint`:
 * the exact diagnostics (message, hint, the code each covers, its line) and, where one is offered, the fixed code.
 */
import { assertEquals } from "@std/assert";
import plugin, { LEAK_SHAPES, RULE_ID, shapeOf } from "../lint/leak_lab.ts";
import { CASES, USING, withUsing } from "./lint_corpus.ts";

function lineAt(source: string, offset: number): number {
  return source.slice(0, offset).split("\n").length;
}

/** `source` with every fix of `fixes` applied, last first. */
export function applyFixes(source: string, fixes: Deno.lint.Fix[]): string {
  let text = source;
  for (const fix of [...fixes].sort((a, b) => b.range[0] - a.range[0])) {
    text = text.slice(0, fix.range[0]) + (fix.text ?? "") + text.slice(fix.range[1]);
  }
  return text;
}

const run = (source: string) => Deno.lint.runPlugin(plugin, "corpus.ts", source);

for (const c of CASES) {
  Deno.test(`release-on-every-path: ${c.name}`, () => {
    const diagnostics = run(c.source);
    assertEquals(
      diagnostics.map((d) => ({
        id: d.id,
        line: lineAt(c.source, d.range[0]),
        covers: c.source.slice(d.range[0], d.range[1]),
        message: d.message,
        hint: d.hint,
      })),
      c.expect.map((e) => ({ id: RULE_ID, line: e.line, covers: e.covers, message: e.message, hint: e.hint })),
    );
    diagnostics.forEach((d, i) => {
      const fixed = c.expect[i].fixed;
      const expected = fixed === USING ? withUsing(c.source) : fixed;
      assertEquals(d.fix?.length ? applyFixes(c.source, d.fix) : undefined, expected, "the fix");
      if (expected !== undefined) assertEquals(run(expected), [], "the fixed code is lint-clean");
    });
  });
}

Deno.test("the corpus has at least 30 cases, both leaking and correct", () => {
  const leaking = CASES.filter((c) => c.expect.length > 0).length;
  assertEquals(CASES.length >= 30 && leaking >= 15 && CASES.length - leaking >= 15, true, `${CASES.length}`);
});

Deno.test("shapeOf() names exactly one shape for every corpus message, and the corpus shows every shape", () => {
  const seen = new Set<string>();
  for (const c of CASES) {
    for (const d of run(c.source)) {
      const matching = Object.values(LEAK_SHAPES).filter((shape) => shape.pattern.test(d.message));
      assertEquals(matching.length, 1, `${c.name}: ${d.message}`);
      seen.add(shapeOf(d.message)!.id);
    }
  }
  assertEquals([...seen].sort(), Object.values(LEAK_SHAPES).map((shape) => shape.id).sort());
  assertEquals(shapeOf("Some other rule's message."), undefined);
});
