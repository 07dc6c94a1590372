/**
 * Jupyter MIME bundles: one representation of an output per media type, so
 * each front end (VS Code, JupyterLab, an HTML export, a terminal) shows the
 * richest one it understands.
 *
 * @module
 */
import { escapeHtml } from "../util/escape_html.ts";

/** A Jupyter MIME bundle: one representation per media type, `text/plain` always present. */
export type MimeBundle = { "text/plain": string } & Record<string, string | object>;

/**
 * A clickable link as a bundle; with `{ exported: false }` (no Jaeger UI
 * answers) the URL is shown as text, marked as such, never as a link.
 *
 * @example
 * ```ts
 * import { linkBundle } from "./mime_bundle.ts";
 * linkBundle("http://localhost:16686/search?service=leak-lab", "Leaking traces")["text/plain"];
 * // "Leaking traces: http://localhost:16686/search?service=leak-lab"
 * ```
 */
export function linkBundle(url: string, text: string, options: { exported?: boolean } = {}): MimeBundle {
  if (options.exported === false) {
    // The link would open an empty Jaeger (or none): show it as text, and say why.
    const note = "not a link: no Jaeger UI answered (JAEGER_UI_URL, else localhost:16686)";
    return {
      "text/plain": `${text}: ${url} (${note})`,
      "text/html": `${escapeHtml(text)}: <code>${escapeHtml(url)}</code> <em>(${escapeHtml(note)})</em>`,
    };
  }
  return {
    "text/plain": `${text}: ${url}`,
    "text/html": `<a href="${escapeHtml(url)}" target="_blank">${escapeHtml(text)}</a> <code>${escapeHtml(url)}</code>`,
  };
}
