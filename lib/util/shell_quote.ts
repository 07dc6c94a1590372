/**
 * Quotes a word for a POSIX shell, for commands a message tells someone to
 * paste: a database name with a space, a quote, `$` or `;` in it must reach
 * the program as one word, unexpanded. Plain words stay as they are.
 *
 * @example
 * ```ts
 * import { shellQuote } from "./shell_quote.ts";
 * shellQuote("shop"); // "shop"
 * shellQuote("it's $HOME"); // "'it'\\''s $HOME'"
 * ```
 */
export function shellQuote(word: string): string {
  if (/^[\w@%+=:,./-]+$/.test(word)) return word;
  // Inside single quotes nothing is special but the closing quote: end the quoting, add \', start again.
  return `'${word.replaceAll("'", `'\\''`)}'`;
}
