/**
 * Checkpoints run wherever `deno test` runs. Without DATABASE_URL, the test
 * files of one `deno test` process share ONE embedded PostgreSQL, which
 * stops (and leaves no data directory) once the process exits; the
 * sanitizers stay clean. With DATABASE_URL a missing table is the setup's
 * problem, never the learner's. (That at a fresh, empty database the
 * checkpoints create their schema is proven by tests/workshop_steps_test.ts,
 * whose solution runs use such a database.)
 */
import { assert, assertEquals, assertStringIncludes } from "@std/assert";
import { adminQuery, checkpointDatabaseUrl } from "../lib/workshop/checkpoint_database.ts";
import { runCheckpoint, verdictsOf } from "../lib/workshop/checkpoint_runner.ts";
import { REPO_ROOT } from "../lib/workshop/steps.ts";
import { eventually } from "../lib/util/eventually.ts";

/** A checkpoint that reports which server it reached, through a pool and from outside it. */
const PROBE = `import { type Checkpoint, checkpoint } from "leak-lab/workshop/checkpoint.ts";
import { adminQuery, checkpointPool } from "leak-lab/workshop/checkpoint_database.ts";
const step: Checkpoint = checkpoint({ step: "09-probe", edit: "probe.ts" });
Deno.test(step.test("reaches the checkpoint database", async () => {
  await using pool = checkpointPool("probe");
  await using conn = await pool.acquire();
  const { rows } = await conn.query("SELECT current_setting('data_directory') AS dir, count(*)::int AS readings FROM sensors");
  const [outside] = await adminQuery("SELECT current_setting('data_directory') AS dir");
  console.log(JSON.stringify({ ...rows[0], outside: outside.dir }));
}));
`;

Deno.test("checkpoint files run by plain deno test without DATABASE_URL share one embedded PostgreSQL, gone when the process exits", async () => {
  const dir = `${REPO_ROOT}/workshop-steps/.tmp-db-${crypto.randomUUID().slice(0, 8)}`;
  const tmp = await Deno.makeTempDir({ prefix: "leaklab-checkpoint-tmp-" });
  await Deno.chmod(tmp, 0o755); // as root, Postgres runs as "postgres" and must reach its data directory
  try {
    const files = [`${dir}/a_test.ts`, `${dir}/b_test.ts`];
    await Deno.mkdir(dir, { recursive: true });
    for (const file of files) await Deno.writeTextFile(file, PROBE);
    const run = await runCheckpoint(files, { cwd: REPO_ROOT, env: { DATABASE_URL: "", TMPDIR: tmp } });
    const ended = performance.now();
    assertEquals(run.outcome, "passed", run.output);
    assert(!run.output.includes("Leaks detected"), run.output);
    const seen = files.map((file) => JSON.parse(verdictsOf(run, file)[0].output[0]));
    assert(seen[0].dir.startsWith(`${tmp}/leak-lab-pg-`), `an embedded server in this run's TMPDIR: ${seen[0].dir}`);
    assertEquals(seen[1].dir, seen[0].dir, "the second file used the first one's server");
    assertEquals(seen.map((s) => s.outside), [seen[0].dir, seen[0].dir], "adminQuery() reaches the same server");
    assertEquals(seen[0].readings, 300, "the schema and its readings were created");

    const left = await eventually(
      () => [...Deno.readDirSync(tmp)].map((entry) => entry.name),
      (names) => names.length === 0,
      { timeoutMs: 5_000 },
    );
    assertEquals(left, [], "the data directory is removed once the test process has exited");
    console.log(`embedded server gone ${Math.round(performance.now() - ended)} ms after deno test exited`);
  } finally {
    await Deno.remove(dir, { recursive: true }).catch(() => {});
    await Deno.remove(tmp, { recursive: true }).catch(() => {});
  }
});

Deno.test("a checkpoint that loses its sensors table reports a setup problem, never the learner's mistake", async () => {
  const name = `leaklab_fresh_${crypto.randomUUID().slice(0, 8)}`;
  await adminQuery(`CREATE DATABASE ${name}`);
  const url = new URL(checkpointDatabaseUrl());
  url.pathname = `/${name}`;
  const dir = `${REPO_ROOT}/workshop-steps/.tmp-db-${crypto.randomUUID().slice(0, 8)}`;
  try {
    await Deno.mkdir(dir, { recursive: true });
    await Deno.writeTextFile(
      `${dir}/dropped_test.ts`,
      `import { type Checkpoint, checkpoint } from "leak-lab/workshop/checkpoint.ts";
import { adminQuery } from "leak-lab/workshop/checkpoint_database.ts";
const step: Checkpoint = checkpoint({ step: "09-probe", edit: "probe.ts" });
Deno.test(step.test("reads the sensors", async () => {
  const [{ readings }] = await adminQuery("SELECT count(*)::int AS readings FROM sensors"); // created for this run
  step.expect(readings === 300, "checkpoint bug: no readings");
  await adminQuery("DROP TABLE sensors"); // as if someone dropped it meanwhile
  await adminQuery("SELECT * FROM sensors");
}));
`,
    );
    const run = await runCheckpoint(`${dir}/dropped_test.ts`, { cwd: REPO_ROOT, databaseUrl: url.href });
    assertEquals(run.outcome, "setup", run.output);
    const [verdict] = run.verdicts;
    assertEquals([verdict.setup, verdict.passed], [true, false]);
    assertStringIncludes(verdict.problem!, `has no "sensors" table, so the checkpoint could not judge your code`);
    assertStringIncludes(verdict.problem!, "This is not your code's fault");
    assert(!verdict.problem!.includes(url.password || "\0"), "the password is never shown");
  } finally {
    await Deno.remove(dir, { recursive: true }).catch(() => {});
    await adminQuery(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
  }
});
