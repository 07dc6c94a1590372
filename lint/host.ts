/**
 * The one place where `deno lint` and ESLint differ for this rule. Both give
 * `create(context)` ESTree nodes with `range` and `parent`, `context.sourceCode.text`
 * and fixers with the same methods; they differ in how a report is shaped:
 * Deno takes `message` and `hint`, ESLint a `messageId` with `data` (the
 * message) and a `desc` for each suggestion. `x?.release()` is a
 * `ChainExpression` in both (ast.ts's `unwrap` sees through it).
 *
 * @module
 */
import type { Node } from "./ast.ts";

/** The fixer methods the rule uses: the same names in Deno and ESLint. */
export interface Fixer {
  insertTextBefore(node: Node, text: string): unknown;
  replaceTextRange(range: [number, number], text: string): unknown;
  removeRange(range: [number, number]): unknown;
  insertTextAfterRange(range: [number, number], text: string): unknown;
}

/** What the rule reads from either host's context. */
export interface RuleContext {
  /** The file being linted. */
  sourceCode: { text: string };
  /** Reports one finding, in the host's own shape. */
  report(data: unknown): void;
  /** ESLint only: the language options of the file (absent under `deno lint`). */
  languageOptions?: unknown;
}

/** One finding, in the rule's own terms. */
export interface Report {
  node: Node;
  messageId: string;
  message: string;
  hint: string;
  fix?: (fixer: Fixer) => unknown;
  /** A fix that moves code: an ESLint suggestion, a fix under `deno lint` (which has no suggestions). */
  suggest?: { desc: string; fix: (fixer: Fixer) => unknown };
}

/** Whether `ctx` is ESLint's (it has languageOptions; Deno's has not). */
export function isESLint(ctx: RuleContext): boolean {
  return ctx.languageOptions !== undefined;
}

/** Reports `r` in the shape the running host takes. */
export function report(ctx: RuleContext, r: Report): void {
  if (isESLint(ctx)) {
    ctx.report({
      node: r.node,
      messageId: r.messageId,
      data: { message: r.message },
      fix: r.fix,
      suggest: r.suggest ? [{ desc: r.suggest.desc, fix: r.suggest.fix }] : undefined,
    });
    return;
  }
  ctx.report({ node: r.node, message: r.message, hint: r.hint, fix: r.fix ?? r.suggest?.fix });
}
