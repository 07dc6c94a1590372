/**
 * Escapes text for HTML element content and attribute values. Every HTML
 * view Leak Lab builds (waterfalls, tables, charts, cell summaries) shows
 * span names, SQL and error messages, so all of them escape through here.
 *
 * @example
 * ```ts
 * import { escapeHtml } from "./escape_html.ts";
 * escapeHtml(`<b title="x">&</b>`); // "&lt;b title=&quot;x&quot;&gt;&amp;&lt;/b&gt;"
 * ```
 *
 * @module
 */

const ENTITIES: Record<string, string> = { "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" };

/** `text` with `& < > " '` replaced by their entities. */
export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ENTITIES[c]);
}
