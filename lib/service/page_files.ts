/**
 * Serves the demo page: plain HTML, JS and CSS from lib/service/page/ (no
 * build step), and plotly.js from its npm package, so the page works offline
 * and with no CDN.
 *
 * @module
 */
import { createRequire } from "node:module";
import type { Route } from "./router.ts";

const PAGE_DIR = new URL("./page/", import.meta.url);

const FILES: Record<string, { file: string; type: string }> = {
  "/": { file: "index.html", type: "text/html; charset=utf-8" },
  "/app.js": { file: "app.js", type: "text/javascript; charset=utf-8" },
  "/alerts.js": { file: "alerts.js", type: "text/javascript; charset=utf-8" },
  "/request_log.js": { file: "request_log.js", type: "text/javascript; charset=utf-8" },
  "/style.css": { file: "style.css", type: "text/css; charset=utf-8" },
};

/** The page's files as GET routes. */
export function pageRoutes<Ctx>(): Route<Ctx>[] {
  const routes: Route<Ctx>[] = Object.entries(FILES).map(([path, { file, type }]) => ({
    method: "GET",
    path,
    // Read on every request: an instructor can edit the page and reload.
    handle: async () => new Response(await Deno.readFile(new URL(file, PAGE_DIR)), { headers: headers(type, 0) }),
  }));
  let plotly: Uint8Array<ArrayBuffer> | undefined;
  routes.push({
    method: "GET",
    path: "/vendor/plotly.min.js",
    handle: async () => {
      plotly ??= await Deno.readFile(plotlyPath());
      return new Response(plotly, { headers: headers("text/javascript; charset=utf-8", 86_400) });
    },
  });
  return routes;
}

/** Where npm put plotly.js-dist-min. */
export function plotlyPath(): string {
  try {
    return createRequire(import.meta.url).resolve("plotly.js-dist-min/plotly.min.js");
  } catch (error) {
    throw new Error(
      `plotly.js is not installed (${(error as Error).message}). Run \`deno task setup\` (or \`deno install\`).`,
      { cause: error },
    );
  }
}

function headers(type: string, maxAge: number): Record<string, string> {
  return {
    "content-type": type,
    "cache-control": maxAge > 0 ? `public, max-age=${maxAge}` : "no-cache",
    "x-content-type-options": "nosniff",
  };
}
