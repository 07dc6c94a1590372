/**
 * What a checkpoint reads from Leak Lab's lint rule: each leak that
 * `leak-lab/release-on-every-path` reports in a learner's file (its line, the
 * function it is in, its shape in workshop words, the rule's own message and
 * hint), and each `deno-lint-ignore` comment that would hide one from
 * `deno lint`.
 *
 * The rule runs through `Deno.lint.runPlugin`, so only inside `deno test`
 * (where checkpoints run). Unlike `deno lint`, `runPlugin` does not honour
 * ignore comments: a silenced leak is still found, and still a leak.
 *
 * @example
 * ```ts ignore
 * import { leakIgnoreComments, lintLeaks } from "leak-lab/workshop/lint_findings.ts";
 * const source = await Deno.readTextFile("workshop-steps/04b-lint-clean/sensor_dashboard.ts");
 * for (const leak of lintLeaks("sensor_dashboard.ts", source)) console.log(leak.line, leak.inFunction, leak.words);
 * console.log(leakIgnoreComments(source)); // [] unless a comment silences the rule
 * ```
 *
 * @module
 */
import plugin, { LEAK_SHAPES, type LeakShape, RULE_ID, shapeOf } from "../../lint/leak_lab.ts";

/** Each leak shape the rule knows, in the workshop's words: what happens on the path that leaks. */
export const SHAPE_WORDS: Readonly<Record<keyof typeof LEAK_SHAPES, string>> = {
  discarded: "the connection is thrown away",
  destructured: "the connection is destructured, so nothing can release it",
  neverReleased: "never released",
  onlyInCallback: "released only in a callback that may never run",
  onlyInCatch: "released only when something fails (in `catch`)",
  tryAndCatch: "released in `try` and in `catch`, not in `finally`",
  onlyOnSuccess: "released only on the success path",
  earlyExit: "an early exit skips the release",
  someBranches: "released on some branches only",
  throwsBeforeTry: "something that can throw sits between the acquire and the `try` (the drizzle `BEGIN` shape)",
  acquireBeforeTry: "a second acquire sits between the first one and its `try`",
  exitsBeforeTry: "an exit sits between the acquire and the `try`",
  finallyCallback: "`finally` releases only inside a callback",
  finallyConditional: "`finally` releases only on some branches",
  unawaitedReturn: "a promise returned without `await`, so the release comes while its query runs",
};

/** One leak the rule reports. */
export interface LeakFinding {
  /** 1-based line of the code the report covers (usually the acquire). */
  line: number;
  /** The top-level function around it, as `name()`; undefined at module level. */
  inFunction?: string;
  /** The shape, from the rule's message (`shapeOf`). */
  shape: LeakShape;
  /** The shape in workshop words ({@linkcode SHAPE_WORDS}). */
  words: string;
  /** The rule's message: which path leaks. */
  message: string;
  /** The rule's hint: what to write instead. */
  hint: string;
}

/**
 * The leaks `leak-lab/release-on-every-path` reports in `source`, in source
 * order, whatever `deno-lint-ignore` comments say.
 * @throws {Error} outside `deno test` (a limit of `Deno.lint.runPlugin`)
 */
export function lintLeaks(filename: string, source: string): LeakFinding[] {
  const functions = topLevelFunctions(source);
  return Deno.lint.runPlugin(plugin, filename, source)
    .filter((d) => d.id === RULE_ID)
    .sort((a, b) => a.range[0] - b.range[0])
    .map((d) => {
      const shape = shapeOf(d.message);
      if (!shape) throw new Error(`${RULE_ID} reported a message no leak shape matches: ${d.message}`);
      const key = (Object.keys(LEAK_SHAPES) as (keyof typeof LEAK_SHAPES)[]).find((k) => LEAK_SHAPES[k] === shape)!;
      const line = lineAt(source, d.range[0]);
      return {
        line,
        inFunction: functions.findLast((f) => f.line <= line)?.name,
        shape,
        words: SHAPE_WORDS[key],
        message: d.message,
        hint: d.hint ?? "",
      };
    });
}

/** A comment that would make `deno lint` skip the rule. */
export interface IgnoreComment {
  /** 1-based line of the comment. */
  line: number;
  /** The comment as written, trimmed. */
  text: string;
  /** `deno-lint-ignore-file`: the whole file, not just the next line. */
  file: boolean;
}

// Only `//` comments: `deno lint` does not read directives in block comments.
const IGNORE = /\/\/\s*deno-lint-ignore(-file)?(?![\w-])([^\n]*)/g;

/**
 * The `deno-lint-ignore` and `deno-lint-ignore-file` comments in `source`
 * that silence `leak-lab/release-on-every-path`: those naming it, and those
 * naming no rule at all (which silence every rule).
 */
export function leakIgnoreComments(source: string): IgnoreComment[] {
  const found: IgnoreComment[] = [];
  for (const match of source.matchAll(IGNORE)) {
    // `// deno-lint-ignore rule-a rule-b -- why`: the rule ids come before any explanation.
    const codes = match[2].split("--")[0].trim().split(/[\s,]+/).filter(Boolean);
    if (codes.length > 0 && !codes.includes(RULE_ID)) continue;
    found.push({
      line: lineAt(source, match.index),
      text: match[0].trim(),
      file: match[1] !== undefined,
    });
  }
  return found;
}

/** `function name(` and `const name = (…) =>` at the start of a line, with their lines. */
function topLevelFunctions(source: string): { line: number; name: string }[] {
  const declaration =
    /^(?:export\s+)?(?:async\s+)?function\*?\s+([\w$]+)|^(?:export\s+)?const\s+([\w$]+)\s*=\s*(?:async\s*)?(?:\(|[\w$]+\s*=>)/gm;
  return [...source.matchAll(declaration)].map((m) => ({ line: lineAt(source, m.index), name: `${m[1] ?? m[2]}()` }));
}

function lineAt(source: string, offset: number): number {
  return source.slice(0, offset).split("\n").length;
}
