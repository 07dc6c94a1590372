/**
 * Paths as a reader of this project knows them: `lib/demo/query_handlers.ts`,
 * not `file:///home/someone/leak-lab/lib/demo/query_handlers.ts`. Stack
 * traces, acquire sites, spans, logs and the demo page show them relative to
 * the project (the folder holding `lib/`), else to the working directory, so
 * they never expose where the project sits on disk, and read the same from a
 * notebook kernel (whose working directory is `notebooks/`) as from the
 * repository root.
 *
 * @example
 * ```ts
 * import { projectPath, relativeToProject } from "./project_path.ts";
 * projectPath(new URL("../pool.ts", import.meta.url).href); // "lib/pool.ts"
 * relativeToProject(new Error("here").stack ?? ""); // "Error: here\n    at lib/util/…"
 * ```
 *
 * @module
 */

const PROJECT = new URL("../../", import.meta.url).href;

function bases(): string[] {
  let cwd: string | undefined;
  try {
    cwd = `file://${Deno.cwd()}/`;
  } catch {
    // no read permission for the working directory: the project folder still applies
  }
  return cwd && cwd !== PROJECT ? [PROJECT, cwd] : [PROJECT];
}

/** A `file://` location relative to the project (or the working directory); any other location as it is. */
export function projectPath(location: string): string {
  for (const base of bases()) {
    if (location.startsWith(base)) return location.slice(base.length);
  }
  return location;
}

/** `text` (a stack trace, a message) with every project and working-directory `file://` prefix removed. */
export function relativeToProject(text: string): string {
  let out = text;
  for (const base of bases()) out = out.replaceAll(base, "");
  return out;
}
