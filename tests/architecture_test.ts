/**
 * The layout the README's "Architecture" section describes, checked: lib/'s
 * top level holds only the front doors and module folders, modules import
 * each other in one direction and through front doors, and nothing outside
 * tests/ reaches into tests/.
 */
import { assert, assertEquals } from "@std/assert";
import { dirname, join, normalize, relative } from "node:path";
import { fileURLToPath } from "node:url";

const ROOT = fileURLToPath(new URL("..", import.meta.url));

/** The modules each module may import; every other edge is a defect. */
const ALLOWED: Record<string, string[]> = {
  util: [],
  postgres: ["util"], // the client side of Postgres: URLs, connection errors, SQLSTATEs; no server
  database: ["postgres", "util"],
  telemetry: ["pool", "util"], // the leak-keeping sampler and the leak attributes' names
  // Never database: its embedded server is the workshop's, and a service installing the package must not load it.
  pool: ["postgres", "util"],
  middleware: ["pool", "util"], // per-request scopes for Hono and Deno.serve; no SDK, no server
  demo: ["pool", "util"],
  notebook: ["demo", "pool", "telemetry", "util"],
  service: ["database", "demo", "middleware", "pool", "postgres", "telemetry", "util"],
  workshop: ["database", "demo", "pool", "telemetry", "util"],
};
/**
 * What a module may import from outside lib/: workshop's checkpoints run the project's lint plugin (step 4b), which
 * imports nothing of ours, so the edge stays one way.
 */
const OUTSIDE_LIB: Record<string, string[]> = { workshop: ["lint/"] };
/**
 * Parts another module may import past a front door. telemetry wraps its sampler in the pool's `keepLeaks()`,
 * whose file imports nothing but the trace names: through `lib/pool.ts` it would load `pg`, and the peer benchmark
 * must set up telemetry before `pg` first loads (instrumentation-pg patches only a later load).
 */
const SIDE_DOORS: Record<string, string[]> = { telemetry: ["lib/pool/keep_leaks.ts"] };
/** Modules with a front door `lib/<name>.ts`: other modules import that file, never the parts behind it. */
const FRONT_DOORS = ["database", "middleware", "notebook", "pool", "postgres", "telemetry"];

function filesUnder(dir: string, keep: (path: string) => boolean): string[] {
  const out: string[] = [];
  for (const entry of Deno.readDirSync(join(ROOT, dir))) {
    const path = join(dir, entry.name);
    if (entry.isDirectory && !entry.name.startsWith(".") && entry.name !== "node_modules") {
      out.push(...filesUnder(path, keep));
    } else if (entry.isFile && keep(path)) out.push(path);
  }
  return out;
}

/** Relative specifiers a file imports, resolved to repository paths (notebook cells resolve from notebooks/). */
function importsOf(file: string): string[] {
  const text = file.endsWith(".ipynb")
    ? JSON.parse(Deno.readTextFileSync(join(ROOT, file))).cells.map((c: { source: string[] }) => c.source.join(""))
      .join("\n")
    : Deno.readTextFileSync(join(ROOT, file));
  const specifiers = [...text.matchAll(/(?:from\s+|import\s*\(\s*|import\s+)["']((?:\.{1,2}|leak-lab)\/[^"']+)["']/g)]
    .map((m) => m[1]);
  // deno.json maps the bare "leak-lab/" to "./lib/" (the workshop steps use it, so they resolve from any folder).
  return specifiers.map((specifier) =>
    specifier.startsWith("leak-lab/")
      ? normalize(join("lib", specifier.slice("leak-lab/".length)))
      : normalize(join(dirname(file), specifier))
  );
}

function moduleOf(libPath: string): string {
  return relative("lib", libPath).split("/")[0].replace(/\.ts$/, "");
}

const libFiles = filesUnder("lib", (path) => path.endsWith(".ts"));

Deno.test("lib/ holds only the front doors and module folders at its top level", () => {
  const top = [...Deno.readDirSync(join(ROOT, "lib"))];
  assertEquals(
    top.filter((entry) => entry.isFile).map((entry) => entry.name).sort(),
    FRONT_DOORS.map((name) => `${name}.ts`),
  );
  assertEquals(
    top.filter((entry) => entry.isDirectory).map((entry) => entry.name).sort(),
    Object.keys(ALLOWED).sort(),
  );
});

Deno.test("lib/ modules import each other one way, through front doors, and never tasks/ or tests/", () => {
  const problems: string[] = [];
  for (const file of libFiles) {
    const from = moduleOf(file);
    for (const target of importsOf(file)) {
      if (!target.startsWith("lib/")) {
        if (!OUTSIDE_LIB[from]?.some((folder) => target.startsWith(folder))) {
          problems.push(`${file} imports ${target}, outside lib/`);
        }
        continue;
      }
      const to = moduleOf(target);
      if (to === from) continue;
      if (!ALLOWED[from].includes(to)) problems.push(`${file} imports ${target}: ${from} may not depend on ${to}`);
      if (FRONT_DOORS.includes(to) && target !== `lib/${to}.ts` && !SIDE_DOORS[from]?.includes(target)) {
        problems.push(`${file} imports ${target}: import the front door lib/${to}.ts instead`);
      }
    }
  }
  assertEquals(problems, []);
  // The plugin stays a leaf: it imports nothing of ours, so lib/ → lint/ cannot close a cycle.
  for (const file of filesUnder("lint", (path) => path.endsWith(".ts"))) {
    const outside = importsOf(file).filter((target) => !target.startsWith("lint/"));
    assertEquals(outside, [], `${file} imports only lint/`);
  }
});

Deno.test("nothing outside tests/ imports tests/, and only steps, tasks and tests import lib/workshop/", () => {
  const everything = filesUnder(".", (path) => /\.(ts|ipynb)$/.test(path));
  const problems: string[] = [];
  for (const file of everything) {
    for (const target of importsOf(file)) {
      if (target.startsWith("tests/") && !file.startsWith("tests/")) problems.push(`${file} imports ${target}`);
      const mayUseWorkshop = /^(workshop-steps|tasks|tests|lib\/workshop)\//.test(file);
      if (target.startsWith("lib/workshop/") && !mayUseWorkshop) problems.push(`${file} imports ${target}`);
    }
  }
  assertEquals(problems, []);
  assert(everything.some((file) => file.startsWith("workshop-steps/")), "the scan saw the workshop steps");
});
