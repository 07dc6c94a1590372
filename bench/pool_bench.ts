/**
 * `deno task bench`: what TracedPool costs per lease, in one run, against a
 * raw node-postgres `Pool` and against the peer most users pick today,
 * `@opentelemetry/instrumentation-pg`.
 *
 * Each variant runs in its own process (`bench/pool_worker.ts`), so one's
 * garbage and JIT state never slow another, and the patching the peer needs
 * happens before `pg` loads. Rounds are interleaved: in every round each
 * variant runs the same number of `acquire → SELECT 1 → release` operations,
 * one variant at a time, in a rotating order; a variant's ratio is its
 * throughput over raw's in the same round, and the table shows the median
 * over the rounds (with the range), so slow drift of the machine cancels out.
 *
 * `--against REV` adds TracedPool's rows as of another commit (a git
 * worktree in a temporary directory, running this worker), interleaved in
 * the same rounds: before/after figures from one run.
 *
 * Usage: deno task bench [--rounds N] [--json FILE] [--against REV]
 */
import denoJson from "../deno.json" with { type: "json" };
import { lines, type Variant, VARIANTS } from "./pool_worker.ts";

const LABELS: Record<Variant, string> = {
  raw: "raw `pg.Pool` (baseline)",
  "raw-sampled": "raw `pg.Pool` in an app request span at `parentbased_traceidratio` 0.01 (the app's own cost)",
  peer: "`@opentelemetry/instrumentation-pg` 0.76 + SDK metrics, everything recorded",
  "peer-sampled": "the peer at `parentbased_traceidratio` 0.01, in an app request span",
  traced: "TracedPool, `setupTelemetry()`, everything recorded",
  scoped: "TracedPool, everything recorded, lease inside `scope()` (a service's path)",
  sites: 'the same, `captureAcquireSites: "always"` (the demo service\'s setting)',
  sampled: "TracedPool at `parentbased_traceidratio` 0.01, app request span, `scope()` (production)",
  off: "TracedPool, tracing off",
  "off-scoped": "TracedPool, tracing off, lease inside `scope()`",
};
const CONCURRENCY = [1, 16] as const;
const ROOT = new URL("..", import.meta.url).pathname.replace(/\/$/, "");
/** The rows `--against` adds: TracedPool's own, as of the other commit. */
const AGAINST_VARIANTS: readonly Variant[] = ["scoped", "sampled", "off-scoped"];
const OPS: Record<number, number> = { 1: 3_000, 16: 10_000 };

interface Reply {
  ms: number;
  cpuMs: number;
  spans: number;
}

/** A variant's worker process, answering one run at a time. */
class Worker {
  readonly #child: Deno.ChildProcess;
  readonly #writer: WritableStreamDefaultWriter<Uint8Array>;
  readonly #lines: AsyncIterator<string>;

  /**
   * @param id the row's key: the variant, or `variant@rev` for another commit's
   * @param checkout the checkout whose `lib/` the worker runs
   */
  constructor(readonly id: string, readonly variant: Variant, checkout = ROOT) {
    this.#child = new Deno.Command(Deno.execPath(), {
      args: ["run", "-A", `${checkout}/bench/pool_worker.ts`, variant],
      cwd: checkout,
      stdin: "piped",
      stdout: "piped",
      stderr: "inherit",
    }).spawn();
    this.#writer = this.#child.stdin.getWriter();
    this.#lines = lines(this.#child.stdout)[Symbol.asyncIterator]();
  }

  async ready(): Promise<void> {
    const first = await this.#lines.next();
    if (first.done || !first.value.includes('"ready"')) throw new Error(`${this.id} worker did not start`);
  }

  async run(concurrency: number, ops: number): Promise<Reply> {
    await this.#writer.write(new TextEncoder().encode(JSON.stringify({ concurrency, ops }) + "\n"));
    const reply = await this.#lines.next();
    if (reply.done) throw new Error(`${this.id} worker exited during a run`);
    return JSON.parse(reply.value) as Reply;
  }

  async close(): Promise<void> {
    await this.#writer.close();
    await this.#child.status;
  }
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

async function machine(): Promise<string> {
  const url = Deno.env.get("DATABASE_URL")!;
  const pg = (await import("pg")).default;
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  const { rows } = await client.query<{ server_version: string }>("SHOW server_version");
  await client.end();
  const cpu = (await Deno.readTextFile("/proc/cpuinfo").catch(() => "")).match(/model name\s*:\s*(.+)/)?.[1];
  const cores = `${navigator.hardwareConcurrency} cores${cpu ? ` (${cpu.trim()})` : ""}`;
  return `Deno ${Deno.version.deno}, ${pinned("pg")}, ${pinned("@opentelemetry/sdk-trace-base")}, ` +
    `${pinned("@opentelemetry/instrumentation-pg")}; PostgreSQL ${
      rows[0].server_version
    } on loopback; ${cores}; pool max 5`;
}

/** `name@version` as deno.json pins it: the versions the workers ran. */
function pinned(name: string): string {
  const spec = (denoJson.imports as Record<string, string>)[name] ?? "";
  return spec.replace(/^npm:/, "") || `${name} (not in deno.json)`;
}

/**
 * A worktree of `rev` in a temporary directory, with this worker copied in
 * and its npm packages installed; `remove()` deletes it.
 */
async function checkoutOf(rev: string): Promise<{ dir: string; remove(): Promise<void> }> {
  const git = async (...args: string[]) => {
    const { success, stderr } = await new Deno.Command("git", { args, cwd: ROOT, stdout: "null" }).output();
    if (!success) throw new Error(`git ${args.join(" ")} failed: ${new TextDecoder().decode(stderr).trim()}`);
  };
  const dir = await Deno.makeTempDir({ prefix: "leak-lab-bench-" });
  await git("worktree", "add", "--detach", dir, rev);
  const remove = async () => {
    await git("worktree", "remove", "--force", dir);
    await Deno.remove(dir, { recursive: true }).catch(() => {});
  };
  try {
    await Deno.mkdir(`${dir}/bench`, { recursive: true });
    await Deno.copyFile(`${ROOT}/bench/pool_worker.ts`, `${dir}/bench/pool_worker.ts`);
    const install = await new Deno.Command(Deno.execPath(), { args: ["install"], cwd: dir, stdout: "null" }).output();
    if (!install.success) throw new Error(`deno install in the worktree of ${rev} failed`);
  } catch (error) {
    await remove();
    throw error;
  }
  return { dir, remove };
}

if (import.meta.main) {
  const args = [...Deno.args];
  const option = (name: string) => {
    const at = args.indexOf(name);
    return at === -1 ? undefined : args[at + 1];
  };
  const rounds = Number(option("--rounds") ?? 8);
  if (!Number.isInteger(rounds) || rounds < 3) {
    console.error(`--rounds must be a whole number of at least 3: current value is "${option("--rounds")}"`);
    Deno.exit(2);
  }
  if (!Deno.env.get("DATABASE_URL")) {
    console.error("DATABASE_URL is not set: run `deno task bench`, which provides a Postgres.");
    Deno.exit(2);
  }
  const against = option("--against");
  const other = against ? await checkoutOf(against) : undefined;
  const workers = [
    ...VARIANTS.map((variant) => new Worker(variant, variant)),
    ...(other ? AGAINST_VARIANTS.map((variant) => new Worker(`${variant}@${against}`, variant, other.dir)) : []),
  ];
  const label = (worker: Worker) =>
    worker.id === worker.variant ? LABELS[worker.variant] : `${LABELS[worker.variant]}, at ${against}`;
  try {
    await Promise.all(workers.map((worker) => worker.ready()));

    // Spans per lease, from a short run each (at most 400 spans: the store keeps 500).
    const spansPerLease: Record<string, number> = {};
    for (const worker of workers) spansPerLease[worker.id] = (await worker.run(1, 100)).spans / 100;
    if (spansPerLease.peer === 0) {
      throw new Error(
        "instrumentation-pg produced no spans: pg was not patched, so the peer would be measured untraced",
      );
    }

    const throughput: Record<string, Record<number, number[]>> = {};
    const cpuPerLease: Record<string, Record<number, number[]>> = {};
    for (const { id } of workers) {
      throughput[id] = { 1: [], 16: [] };
      cpuPerLease[id] = { 1: [], 16: [] };
    }
    const started = performance.now();
    for (let round = 0; round <= rounds; round++) {
      for (const concurrency of CONCURRENCY) {
        const order = workers.map((_, i) => workers[(i + round) % workers.length]);
        for (const worker of order) {
          const reply = await worker.run(concurrency, OPS[concurrency]);
          if (round === 0) continue; // warm-up: JIT, connections, caches
          throughput[worker.id][concurrency].push(OPS[concurrency] / reply.ms * 1000);
          cpuPerLease[worker.id][concurrency].push(reply.cpuMs * 1000 / OPS[concurrency]);
        }
      }
      Deno.stderr.writeSync(new TextEncoder().encode(`round ${round}/${rounds}\r`));
    }

    const ratio = (id: string, over: string, concurrency: number) =>
      throughput[id][concurrency].map((value, round) => value / throughput[over][concurrency][round]);
    const cell = (values: number[]) =>
      `${median(values).toFixed(2)}× (${Math.min(...values).toFixed(2)}–${Math.max(...values).toFixed(2)})`;
    const seconds = ((performance.now() - started) / 1000).toFixed(0);
    console.log(`\n${await machine()}; ${rounds} interleaved rounds (+1 warm-up), ${seconds} s`);
    console.log(`Throughput relative to raw pg.Pool, median of the rounds (range); CPU µs per lease, median\n`);
    console.log(`| variant | spans/lease | c=1 | c=16 | CPU µs/lease c=1 | CPU µs/lease c=16 |`);
    console.log(`|---|---|---|---|---|---|`);
    for (const worker of workers) {
      const { id } = worker;
      const c1 = id === "raw" ? "1.00×" : cell(ratio(id, "raw", 1));
      const c16 = id === "raw" ? "1.00×" : cell(ratio(id, "raw", 16));
      const cpu = (c: number) => median(cpuPerLease[id][c]).toFixed(1);
      console.log(`| ${label(worker)} | ${spansPerLease[id]} | ${c1} | ${c16} | ${cpu(1)} | ${cpu(16)} |`);
    }
    const targets: [string, number, number][] = [
      ["production path vs raw, c=1 (target ≥ 0.90×)", median(ratio("sampled", "raw", 1)), 0.90],
      ["production path vs raw, c=16 (target ≥ 0.90×)", median(ratio("sampled", "raw", 16)), 0.90],
      [
        "production path vs the peer at the same sampling, c=1 (target ≥ 1.0×)",
        median(ratio("sampled", "peer-sampled", 1)),
        1.0,
      ],
      [
        "production path vs the peer at the same sampling, c=16 (target ≥ 1.0×)",
        median(ratio("sampled", "peer-sampled", 16)),
        1.0,
      ],
      [
        "production path vs raw in the same app span, c=1 (not an issue target: TracedPool's own share)",
        median(ratio("sampled", "raw-sampled", 1)),
        0.90,
      ],
      [
        "production path vs raw in the same app span, c=16 (not an issue target: TracedPool's own share)",
        median(ratio("sampled", "raw-sampled", 16)),
        0.90,
      ],
      ["tracing off, scope() per lease, vs raw, c=1 (target ≥ 0.95×)", median(ratio("off-scoped", "raw", 1)), 0.95],
      ["tracing off, scope() per lease, vs raw, c=16 (target ≥ 0.95×)", median(ratio("off-scoped", "raw", 16)), 0.95],
      ["everything recorded, scope() path, vs the peer, c=1 (target ≥ 1.3×)", median(ratio("scoped", "peer", 1)), 1.3],
      [
        "everything recorded, scope() path, vs the peer, c=16 (target ≥ 1.3×)",
        median(ratio("scoped", "peer", 16)),
        1.3,
      ],
    ];
    console.log("");
    for (const [what, value, target] of targets) {
      console.log(`${value >= target ? "✓" : "✗"} ${what}: ${value.toFixed(2)}×`);
    }
    const json = option("--json");
    if (json) {
      await Deno.writeTextFile(json, JSON.stringify({ throughput, cpuPerLease, spansPerLease }, null, 2));
    }
  } finally {
    await Promise.all(workers.map((worker) => worker.close()));
    await other?.remove();
  }
}
