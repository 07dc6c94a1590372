/**
 * Turns a {@link Move} into text edits: the statements keep their text, one
 * indent deeper, inside the `try` that releases. The rule offers them as an
 * ESLint suggestion, and as the fix under `deno lint` (which has no suggestions).
 *
 * @module
 */
import type { Node } from "./ast.ts";
import type { Fixer } from "./host.ts";
import type { Move } from "./lease_paths.ts";

const lineStart = (text: string, offset: number) => text.lastIndexOf("\n", offset - 1) + 1;
const indentAt = (text: string, offset: number) => /^[ \t]*/.exec(text.slice(lineStart(text, offset)))![0];

/** `lines` (whole lines of source) one `unit` deeper. */
function deeper(lines: string, unit: string): string {
  return lines.split("\n").map((l) => (l.trim() ? unit + l : l)).join("\n");
}

/** The indent one level adds in this file (the first indented line's), or two spaces. */
function unitOf(text: string): string {
  return /\n([ \t]+)\S/.exec(text)?.[1] ?? "  ";
}

/** What the suggestion says it does. */
export function describeMove(move: Move): string {
  return move.kind === "into-try"
    ? "Move the code between the acquire and the `try` into the `try`."
    : "Wrap the code after the acquire in `try { … } finally { … }` and move the release into the `finally`.";
}

/** The edits that perform `move` on `text`. */
export function moveFix(text: string, move: Move): (fixer: Fixer) => unknown[] {
  const unit = unitOf(text);
  if (move.kind === "into-try") {
    const first = move.statements[0];
    const from = lineStart(text, first.range[0]);
    const to = lineStart(text, move.tryStatement.range[0]);
    const moved = deeper(text.slice(from, to).replace(/\n$/, ""), unit);
    const block = (move.tryStatement as { block: Node }).block;
    return (fixer) => [
      fixer.removeRange([from, to]),
      fixer.insertTextAfterRange([block.range[0], block.range[0] + 1], "\n" + moved),
    ];
  }
  const first = move.statements[0] ?? move.release;
  const last = [...move.statements, move.release].reduce((a, b) => (b.range[1] > a.range[1] ? b : a));
  const from = lineStart(text, first.range[0]);
  const end = last.range[1];
  const indent = indentAt(text, first.range[0]);
  const body = move.statements.map((s) => deeper(text.slice(lineStart(text, s.range[0]), s.range[1]), unit))
    .join("\n");
  const release = text.slice(move.release.range[0], move.release.range[1]);
  const wrapped = `${indent}try {\n${body}\n${indent}} finally {\n${indent}${unit}${release}\n${indent}}`;
  return (fixer) => [fixer.replaceTextRange([from, end], wrapped)];
}
