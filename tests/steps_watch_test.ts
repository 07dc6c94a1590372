/**
 * `deno task watch` (tasks/watch.ts) driven as a learner drives it: it checks
 * the current step, re-checks when its file is saved, moves on when it
 * passes, gives the next hint on `h`, and quits on `q` or Ctrl+C without
 * leaving a Postgres behind. Edits are made in a copy of the steps
 * (LEAKLAB_STEPS_DIR), never in the real starters.
 */
import { assert, assertEquals, assertStringIncludes } from "@std/assert";
import { checkpointDatabaseUrl } from "../lib/workshop/checkpoint_database.ts";
import { listSteps, REPO_ROOT } from "../lib/workshop/steps.ts";
import { eventually } from "../lib/util/eventually.ts";

/** `deno run -A tasks/watch.ts`, its output collected as it comes. */
function startWatch(env: Record<string, string>) {
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", "tasks/watch.ts"],
    cwd: REPO_ROOT,
    env: { NO_COLOR: "1", ...env },
    stdin: "piped",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  let out = "";
  const collect = async (stream: ReadableStream<Uint8Array>) => {
    for await (const text of stream.pipeThrough(new TextDecoderStream())) out += text;
  };
  const collected = Promise.all([collect(child.stdout), collect(child.stderr)]);
  const input = child.stdin.getWriter();
  return {
    child,
    output: () => out,
    /** Waits until the output has `text` after position `from`; returns where it ends. */
    async waitFor(text: string, from = 0, timeoutMs = 60_000): Promise<number> {
      const seen = await eventually(() => out.indexOf(text, from), (at) => at !== -1, { timeoutMs, intervalMs: 50 });
      assert(seen !== -1, `watch never printed "${text}" (after ${from}); it printed:\n${out}`);
      return seen + text.length;
    },
    async press(keys: string) {
      await input.write(new TextEncoder().encode(keys));
    },
    async finished() {
      await input.close().catch(() => {});
      const status = await child.status;
      await collected;
      return status;
    },
  };
}

/** Copies the first two steps into `workshop-steps/.tmp-watch-*` (same names: the checkpoints find their step). */
async function copyOfSteps(): Promise<{ stepsDir: string; ids: string[] }> {
  const stepsDir = `${REPO_ROOT}/workshop-steps/.tmp-watch-${crypto.randomUUID().slice(0, 8)}`;
  const steps = (await listSteps()).slice(0, 2);
  for (const step of steps) {
    await Deno.mkdir(`${stepsDir}/${step.id}/solution`, { recursive: true });
    for (const file of ["README.md", "hints.md", "checkpoint_test.ts", ...step.files, `solution/${step.files[0]}`]) {
      await Deno.copyFile(`${step.dir}/${file}`, `${stepsDir}/${step.id}/${file}`);
    }
  }
  return { stepsDir, ids: steps.map((step) => step.id) };
}

Deno.test("deno task watch re-checks on save, moves to the next step on pass, gives the next hint on h, quits on q", async () => {
  const { stepsDir, ids } = await copyOfSteps();
  const progress = `${stepsDir}/progress.json`;
  const watch = startWatch({
    LEAKLAB_STEPS_DIR: stepsDir,
    LEAKLAB_PROGRESS_FILE: progress,
    DATABASE_URL: checkpointDatabaseUrl(),
  });
  try {
    let at = await watch.waitFor("✗ Step 1 is not solved yet.");
    at = await watch.waitFor("Stuck? Press h for hint 1 of 3.", at);
    at = await watch.waitFor("find_exhaustion.ts: save it to check again.", at);

    await watch.press("h");
    at = await watch.waitFor("Hint 1 of 3 for step 1", at);
    at = await watch.waitFor("Still stuck? Press h again for hint 2 of 3.", at);

    // The learner fixes the starter (here: the solution, saved over it).
    const starter = `${stepsDir}/${ids[0]}/find_exhaustion.ts`;
    await Deno.writeTextFile(starter, await Deno.readTextFile(`${stepsDir}/${ids[0]}/solution/find_exhaustion.ts`));
    at = await watch.waitFor("✓ Step 1 passed", at);
    at = await watch.waitFor(`On to step 2: read workshop-steps/${stepsDir.split("/").pop()}/${ids[1]}/README.md.`, at);
    at = await watch.waitFor("✗ Step 2 is not solved yet.", at);
    await watch.waitFor("find_leaks.ts: save it to check again.", at);

    await watch.press("q");
    const status = await watch.finished();
    assertEquals(status.code, 0, watch.output());
    assertStringIncludes(watch.output(), "Stopped watching. Your progress is saved.");
    const saved = JSON.parse(await Deno.readTextFile(progress));
    assertEquals(Object.keys(saved.passed), [ids[0]], "step 1 is recorded as passed");
    assertEquals(saved.hintsSeen, { [ids[0]]: 1 }, "the hint seen is remembered");
  } finally {
    try {
      watch.child.kill("SIGKILL");
    } catch { /* already exited */ }
    await watch.finished();
    await Deno.remove(stepsDir, { recursive: true });
  }
});

Deno.test("deno task watch stops its embedded Postgres on Ctrl+C, even mid-check, leaving no server or data directory", async () => {
  const { stepsDir } = await copyOfSteps();
  // Its own TMPDIR: the embedded server's data directory lands there, apart from other runs'.
  const tmp = await Deno.makeTempDir({ prefix: "leaklab-watch-tmp-" });
  await Deno.chmod(tmp, 0o755); // as root, Postgres runs as "postgres" and must reach its data directory
  const watch = startWatch({
    LEAKLAB_STEPS_DIR: stepsDir,
    LEAKLAB_PROGRESS_FILE: `${stepsDir}/progress.json`,
    DATABASE_URL: "", // unset: watch starts an embedded PostgreSQL for the session
    TMPDIR: tmp,
  });
  try {
    await watch.waitFor("Checking step 1");
    const dataDirs = [...Deno.readDirSync(tmp)].filter((entry) => entry.name.startsWith("leak-lab-pg-"));
    assertEquals(dataDirs.length, 1, "watch started one embedded server");
    const postmaster = Number((await Deno.readTextFile(`${tmp}/${dataDirs[0].name}/postmaster.pid`)).split("\n")[0]);
    assert(alive(postmaster), "its postmaster runs while watch does");

    watch.child.kill("SIGINT");
    const status = await watch.finished();
    assertEquals(status.code, 130, `Ctrl+C ends watch with the shell's 130\n${watch.output()}`);
    assertStringIncludes(watch.output(), "Stopped watching. Your progress is saved.");
    assert(!alive(postmaster), `postmaster ${postmaster} is gone once watch has exited`);
    assertEquals([...Deno.readDirSync(tmp)].map((entry) => entry.name), [], "no data directory is left behind");
  } finally {
    try {
      watch.child.kill("SIGKILL");
    } catch { /* already exited */ }
    await watch.finished();
    await Deno.remove(stepsDir, { recursive: true });
    await Deno.remove(tmp, { recursive: true });
  }
});

/** Whether a process with this pid exists (Linux: /proc). */
function alive(pid: number): boolean {
  try {
    return !Deno.readTextFileSync(`/proc/${pid}/stat`).includes(") Z ");
  } catch {
    return false;
  }
}
