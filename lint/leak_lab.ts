/**
 * Leak Lab's lint plugin. Its one rule, `leak-lab/release-on-every-path`,
 * rejects a pooled connection that some path never gives back.
 *
 * A connection taken with `await <expr>.acquire()` (TracedPool) or
 * `await <expr>.connect()` (pg), either with no arguments, must be declared
 * with `await using` (or `using`), or be released in the `finally` of a `try`
 * that starts right after the acquire. Anything else is reported with the path
 * that leaks and the fix; for TracedPool leases the fix `const conn = …` →
 * `await using conn = …` is offered where it is safe.
 *
 * ```json
 * { "lint": { "plugins": ["./lint/leak_lab.ts"] } }
 * ```
 *
 * The same rule object runs under ESLint: `deno task eslint-plugin` bundles it
 * into dist/eslint-plugin-leak-lab/ (lint/host.ts bridges the two hosts).
 *
 * @module
 */
import { lineOf, type Node } from "./ast.ts";
import { acquireMethod, analyseAcquire, type Finding, shownName } from "./lease_paths.ts";
import { LEAK_SHAPES, type LeakContext } from "./messages.ts";
import { type Fixer, report, type RuleContext } from "./host.ts";
import { describeMove, moveFix } from "./suggestions.ts";

export { LEAK_SHAPES, type LeakContext, type LeakShape, type LeakShapeName, shapeOf } from "./messages.ts";
export type { RuleContext } from "./host.ts";

/** The rule's id as `deno lint` prints it. */
export const RULE_ID = "leak-lab/release-on-every-path";

const MAX_CULPRIT = 60;

/** One line of source for a message: the first line, `;` dropped, shortened with `…`. */
function snippet(text: string, node: Node | undefined): string {
  if (!node) return "";
  const line = text.slice(node.range[0], node.range[1]).split("\n")[0].trim().replace(/;$/, "");
  return line.length > MAX_CULPRIT ? `${line.slice(0, MAX_CULPRIT - 1)}…` : line;
}

/** The name a message shows: `{ release }` for a destructured release, called as `release()`. */
function named(name: string): { name: string; releaseCall?: string } {
  const shown = shownName(name);
  return shown === name
    ? { name }
    : { name: shown === "release" ? "{ release }" : `{ release: ${shown} }`, releaseCall: `${shown}()` };
}

function contextOf(text: string, finding: Finding): LeakContext {
  const call = (finding.at.type === "AwaitExpression" ? finding.at.argument : finding.at) as Node;
  const acquire = finding.at.type === "AwaitExpression" ? snippet(text, call) : "pool.acquire()";
  return {
    ...named(finding.name),
    acquire,
    culprit: snippet(text, finding.culprit),
    line: finding.culprit ? lineOf(text, finding.culprit.range[0]) : 0,
    release: snippet(text, finding.release),
    releaseLine: finding.release ? lineOf(text, finding.release.range[0]) : 0,
    disposable: finding.method === "acquire",
  };
}

/** A lint rule as ESLint and `deno lint` both read it: ESLint's `meta` beside `create`. */
export interface LeakRule {
  /** ESLint's description of the rule; `deno lint` ignores it. */
  meta: {
    type: "problem";
    docs: { description: string };
    messages: Record<string, string>;
    fixable: "code";
    hasSuggestions: boolean;
    schema: [];
  };
  /** The visitors for one file. */
  create(ctx: RuleContext): {
    AwaitExpression(node: Deno.lint.AwaitExpression): void;
    "Program:exit"(): void;
  };
}

/**
 * The rule, in the shape both hosts read (STYLE.md 13): ESLint reads `meta`, `deno lint` ignores it. Messages are
 * built per finding from lint/messages.ts; each shape's id is its `messageId` under ESLint.
 */
export const releaseOnEveryPath: LeakRule = {
  meta: {
    type: "problem",
    // No docs.url: the project has no published home yet; README.md's "The lint rule" section is the reference.
    docs: { description: "A pooled connection must be given back on every path (finally, or await using)." },
    messages: Object.fromEntries(Object.values(LEAK_SHAPES).map((shape) => [shape.id, "{{message}}"])),
    fixable: "code",
    hasSuggestions: true,
    schema: [],
  },
  create(ctx: RuleContext) {
    const findings: Finding[] = [];
    return {
      AwaitExpression(node: Deno.lint.AwaitExpression) {
        const method = acquireMethod(node.argument);
        if (!method) return;
        const finding = analyseAcquire(node, method);
        if (finding) findings.push(finding);
      },
      "Program:exit"() {
        const text = ctx.sourceCode.text;
        for (const finding of findings) {
          const c = contextOf(text, finding);
          const declaration = finding.usingFix as (Node & { type: "VariableDeclaration" }) | undefined;
          const unawaited = finding.shape.id === "unawaited-return";
          report(ctx, {
            node: finding.at,
            messageId: finding.shape.id,
            message: finding.shape.message(c),
            hint: finding.shape.hint(c),
            fix: unawaited
              ? (fixer: Fixer) => fixer.insertTextBefore(finding.at, "await ")
              : declaration
              ? (fixer: Fixer) =>
                fixer.replaceTextRange(
                  [declaration.range[0], declaration.range[0] + declaration.kind.length],
                  "await using",
                )
              : undefined,
            // Only where nothing else is offered: Deno takes one fix per report.
            suggest: finding.move && !unawaited && !declaration
              ? { desc: describeMove(finding.move), fix: moveFix(text, finding.move) }
              : undefined,
          });
        }
      },
    };
  },
};

/** The plugin: `deno.json` → `"lint": { "plugins": ["./lint/leak_lab.ts"] }`. */
const plugin: Deno.lint.Plugin = {
  name: "leak-lab",
  rules: { "release-on-every-path": releaseOnEveryPath as unknown as Deno.lint.Rule },
};

export default plugin;
