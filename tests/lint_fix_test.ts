/**
 * `deno lint --fix` with the Leak Lab plugin, for real: fixed copies of leaking
 * handlers are lint-clean and still type-check against the real TracedPool.
 */
import { assertEquals } from "@std/assert";
import { RULE_ID } from "../lint/leak_lab.ts";

const ROOT = new URL("../", import.meta.url);
const POOL = new URL("lib/pool.ts", ROOT).href;
const FAULTS = new URL("lib/demo/fault_schedule.ts", ROOT).href;
const PLUGIN = new URL("lint/leak_lab.ts", ROOT).href;

const HEADER = [
  `import type pg from "pg";`,
  `import type { TracedPool } from "${POOL}";`,
  `import { type FaultSchedule, readSensors } from "${FAULTS}";`,
  ``,
];

const LEAKING = [
  ...HEADER,
  `export async function badQueryWithLeak(pool: TracedPool, faults: FaultSchedule): Promise<unknown[]> {`,
  `  const conn = await pool.acquire();`,
  `  const rows = await readSensors(conn, faults);`,
  `  conn.release();`,
  `  return rows;`,
  `}`,
  ``,
  `export async function listSensors(pool: TracedPool, faults: FaultSchedule): Promise<unknown[]> {`,
  `  const conn = await pool.acquire();`,
  `  try {`,
  `    return readSensors(conn, faults);`,
  `  } finally {`,
  `    conn.release();`,
  `  }`,
  `}`,
  ``,
  `export async function count(pool: TracedPool): Promise<number> {`,
  `  const conn = await pool.acquire();`,
  `  const { rows } = await conn.query<{ n: number }>("SELECT count(*)::int AS n FROM sensors");`,
  `  return rows[0].n;`,
  `}`,
  ``,
  `export async function onlyInCatch(pool: TracedPool): Promise<unknown[]> {`,
  `  const conn = await pool.acquire();`,
  `  try {`,
  `    return (await conn.query("SELECT 1")).rows;`,
  `  } catch (error) {`,
  `    conn.release();`,
  `    throw error;`,
  `  }`,
  `}`,
  ``,
  `export async function rawPg(pool: pg.Pool): Promise<unknown[]> {`,
  `  const client = await pool.connect();`,
  `  const { rows } = await client.query("SELECT 1");`,
  `  client.release();`,
  `  return rows;`,
  `}`,
  ``,
  `export async function beginBeforeTry(pool: pg.Pool, work: (c: pg.PoolClient) => Promise<number>): Promise<number> {`,
  `  const client = await pool.connect();`,
  `  await client.query("BEGIN");`,
  `  try {`,
  `    const result = await work(client);`,
  `    await client.query("COMMIT");`,
  `    return result;`,
  `  } catch (error) {`,
  `    await client.query("ROLLBACK");`,
  `    throw error;`,
  `  } finally {`,
  `    client.release();`,
  `  }`,
  `}`,
  ``,
].join("\n");

/** What --fix must leave: `await using` for the leases, `return await`, and pg's clients moved under a `finally`. */
const FIXED = LEAKING
  .replaceAll("  const conn = await pool.acquire();", "  await using conn = await pool.acquire();")
  .replace("    return readSensors(conn, faults);", "    return await readSensors(conn, faults);")
  // listSensors keeps its `const`: it was released in finally, only the return was wrong.
  .replace(
    "listSensors(pool: TracedPool, faults: FaultSchedule): Promise<unknown[]> {\n  await using conn",
    "listSensors(pool: TracedPool, faults: FaultSchedule): Promise<unknown[]> {\n  const conn",
  )
  // pg's clients are not disposable: the release only the success path reached goes into a finally around the rest,
  .replace(
    `  const { rows } = await client.query("SELECT 1");\n  client.release();\n  return rows;\n`,
    `  try {\n    const { rows } = await client.query("SELECT 1");\n    return rows;\n  } finally {\n    client.release();\n  }\n`,
  )
  // and the BEGIN between the checkout and the try moves into the try.
  .replace(`  await client.query("BEGIN");\n  try {\n`, `  try {\n    await client.query("BEGIN");\n`);

async function deno(args: string[], cwd: string) {
  const out = await new Deno.Command(Deno.execPath(), { args, cwd, stdout: "piped", stderr: "piped" }).output();
  const decode = (b: Uint8Array) => new TextDecoder().decode(b);
  return { code: out.code, stdout: decode(out.stdout), stderr: decode(out.stderr) };
}

Deno.test("deno lint --fix turns leaking TracedPool and pg handlers into lint-clean code that type-checks", async () => {
  const dir = await Deno.makeTempDir({ prefix: "leak-lab-lint-fix-" });
  try {
    await Deno.writeTextFile(`${dir}/deno.json`, JSON.stringify({ lint: { plugins: [PLUGIN] } }));
    await Deno.writeTextFile(`${dir}/handlers.ts`, LEAKING);

    const before = JSON.parse((await deno(["lint", "--json", "handlers.ts"], dir)).stdout);
    assertEquals(
      before.diagnostics.map((d: { code: string; range: { start: { line: number } } }) => [d.code, d.range.start.line]),
      [[RULE_ID, 6], [RULE_ID, 15], [RULE_ID, 22], [RULE_ID, 28], [RULE_ID, 38], [RULE_ID, 45]],
    );

    const fix = await deno(["lint", "--fix", "--json", "handlers.ts"], dir);
    assertEquals(await Deno.readTextFile(`${dir}/handlers.ts`), FIXED);
    // Nothing is left: the leases are disposable, pg's clients got the moves.
    assertEquals(JSON.parse(fix.stdout).diagnostics, []);
    assertEquals(fix.code, 0);

    const check = await deno(["check", "--quiet", "--config", new URL("deno.json", ROOT).pathname, "handlers.ts"], dir);
    assertEquals(check.stderr, "");
    assertEquals(check.code, 0);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
