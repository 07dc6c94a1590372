/**
 * `deno task soak`: the demo service under a long run, checked the way an
 * on-call engineer would check it afterwards. It starts `main.ts` on
 * 127.0.0.1 with `FAIL_RATE=0.3` (30 % of queries fail), sends `REQUESTS`
 * (default 20,000) `POST /api/good` from `CONCURRENCY` (default 16) clients,
 * then checks:
 *
 * - every answer is 200 (ok) or 500 (query failed): no 503, nothing else;
 * - 0 leaks: `/api/pool` has nothing active, leaked or waiting, and the
 *   service logged no leak;
 * - `pg_stat_activity` has as many backends for the pool as `/api/pool` says;
 * - the service's RSS is back within 50 MB of what it was before the run.
 *
 * It prints the figures and exits 1 when a check fails. DATABASE_URL is the
 * server (`deno task soak` provides one: the embedded server unless set).
 *
 * @module
 */
import pg from "pg";
import { ConfigError, envInteger } from "../lib/util/env.ts";
import { eventually } from "../lib/util/eventually.ts";
import { type ServiceProcess, startServiceProcess } from "./service_process.ts";

/** Options for {@linkcode soak}. */
export interface SoakOptions {
  /** The Postgres the service uses (and pg_stat_activity is read from). */
  databaseUrl: string;
  /** @default 20000 */
  requests?: number;
  /** Clients sending at once. @default 16 */
  concurrency?: number;
  /** Share of queries that fail. @default 0.3 */
  failRate?: number;
  /**
   * Longest wait, once the run is over, for the service's RSS to come back
   * within `rssBudgetMb` of its start. V8 gives memory back to the system
   * when the process goes idle (its memory reducer runs some 10–20 s later),
   * not while requests keep it busy. @default 60000
   */
  settleMs?: number;
  /** Largest RSS growth accepted, in MB. @default 50 */
  rssBudgetMb?: number;
  /** Progress lines. @default none */
  log?: (line: string) => void;
}

/** What a soak measured. */
export interface SoakResult {
  requests: number;
  /** Answers by `status outcome`, e.g. `{"200 ok": 14000, "500 query failed": 6000}`. */
  answers: Record<string, number>;
  seconds: number;
  requestsPerSecond: number;
  /** Before the run, the highest seen, right after it, and when it came back (or the wait ended). */
  rssMb: { start: number; peak: number; afterRun: number; end: number };
  /** Seconds from the end of the run until RSS was back within budget (or the whole wait). */
  settledAfterSeconds: number;
  /** `/api/pool` after the run. */
  pool: { total: number; active: number; leaked: number; waiting: number };
  /** The pool's backends in pg_stat_activity after the run. */
  backends: number;
  leakWarnings: number;
  exitCode: number;
  /** Each check, passed or not. */
  checks: { check: string; ok: boolean; detail: string }[];
  ok: boolean;
}

const JSON_POST = { method: "POST", headers: { "content-type": "application/json" } };

/** Runs the soak; never throws for a failed check (see `checks`). */
export async function soak(options: SoakOptions): Promise<SoakResult> {
  const requests = options.requests ?? 20_000;
  const concurrency = options.concurrency ?? 16;
  const log = options.log ?? (() => {});
  const poolName = `soak-${crypto.randomUUID().slice(0, 8)}`;
  const service = await startServiceProcess(new URL("..", import.meta.url), {
    DATABASE_URL: options.databaseUrl,
    HOST: "127.0.0.1",
    PORT: "0",
    POOL_NAME: poolName,
    FAIL_RATE: String(options.failRate ?? 0.3),
    FAIL_SEED: "42",
    // As `deno task start` runs: traces in memory, exported only if a Jaeger answers on localhost:4318.
    OTEL_EXPORTER_OTLP_ENDPOINT: "",
  });
  if (!service.address) {
    const { stderr } = await service.stop();
    throw new Error(`The service did not start: ${stderr || service.stdout}`);
  }
  try {
    return await measure(service, service.address, poolName, requests, concurrency, options, log);
  } catch (error) {
    await service.stop("SIGKILL");
    throw error;
  }
}

async function measure(
  service: ServiceProcess,
  base: string,
  poolName: string,
  requests: number,
  concurrency: number,
  options: SoakOptions,
  log: (line: string) => void,
): Promise<SoakResult> {
  const start = rssMb(service.pid);
  let peak = start;
  const sampler = setInterval(() => (peak = Math.max(peak, rssMb(service.pid))), 250);

  const answers: Record<string, number> = {};
  let sent = 0;
  let answered = 0;
  const started = performance.now();
  try {
    await Promise.all(Array.from({ length: concurrency }, async () => {
      while (sent < requests) {
        sent++;
        const response = await fetch(new URL("api/good", base), JSON_POST);
        const body = await response.json().catch(() => ({ outcome: "(not JSON)" }));
        const key = `${response.status} ${body.outcome}`;
        answers[key] = (answers[key] ?? 0) + 1;
        if (++answered % 5_000 === 0) log(`  ${answered} requests, RSS ${rssMb(service.pid).toFixed(0)} MB`);
      }
    }));
  } finally {
    clearInterval(sampler);
  }
  const finished = performance.now();
  const seconds = (finished - started) / 1000;
  const budget = options.rssBudgetMb ?? 50;
  const readPool = async () => await (await fetch(new URL("api/pool", base))).json();
  // The pool may close an idle connection between the two reads: read until they agree, briefly.
  const { pool, backends } = await eventually(
    async () => ({ pool: await readPool(), backends: await countBackends(options.databaseUrl, poolName) }),
    ({ pool, backends }) => pool.total === backends,
  );
  const afterRun = rssMb(service.pid);
  log(`  run over; waiting up to ${((options.settleMs ?? 60_000) / 1000).toFixed(0)} s for RSS to settle`);
  const end = await eventually(() => rssMb(service.pid), (rss) => rss - start <= budget, {
    timeoutMs: options.settleMs ?? 60_000,
    intervalMs: 500,
  });
  const settledAfterSeconds = (performance.now() - finished) / 1000;

  const { code, stderr } = await service.stop("SIGTERM");
  const leakWarnings = stderr.match(/Connection leak detected/g)?.length ?? 0;

  const unexpected = Object.keys(answers).filter((key) => key !== "200 ok" && key !== "500 query failed");
  const checks = [
    { check: "answers", ok: unexpected.length === 0, detail: JSON.stringify(answers) },
    {
      check: "0 leaks",
      ok: pool.leaked === 0 && pool.active === 0 && pool.waiting === 0 && leakWarnings === 0,
      detail: `leaked ${pool.leaked}, active ${pool.active}, waiting ${pool.waiting}, leak warnings ${leakWarnings}`,
    },
    {
      check: "pg_stat_activity = /api/pool",
      ok: backends === pool.total,
      detail: `${backends} backends, /api/pool total ${pool.total}`,
    },
    {
      check: `RSS back within ${budget} MB`,
      ok: end - start <= budget,
      detail: `start ${start.toFixed(1)} MB, peak ${peak.toFixed(1)} MB, right after the run ${
        afterRun.toFixed(1)
      } MB, ${end.toFixed(1)} MB ${settledAfterSeconds.toFixed(1)} s later`,
    },
    { check: "clean stop", ok: code === 0, detail: `exit code ${code}` },
  ];
  return {
    requests,
    answers,
    seconds,
    requestsPerSecond: requests / seconds,
    rssMb: { start, peak, afterRun, end },
    settledAfterSeconds,
    pool,
    backends,
    leakWarnings,
    exitCode: code,
    checks,
    ok: checks.every((c) => c.ok),
  };
}

/** Resident set size of `pid`, in MB (Linux /proc, else `ps`). */
function rssMb(pid: number): number {
  try {
    const kb = /VmRSS:\s+(\d+) kB/.exec(Deno.readTextFileSync(`/proc/${pid}/status`))?.[1];
    if (kb) return Number(kb) / 1024;
  } catch {
    // not Linux
  }
  const ps = new Deno.Command("ps", { args: ["-o", "rss=", "-p", String(pid)] }).outputSync();
  return Number(new TextDecoder().decode(ps.stdout).trim()) / 1024;
}

async function countBackends(url: string, poolName: string): Promise<number> {
  const client = new pg.Client({ connectionString: url, application_name: "leak-lab:soak" });
  await client.connect();
  try {
    const { rows } = await client.query("SELECT count(*)::int AS n FROM pg_stat_activity WHERE application_name = $1", [
      `leak-lab:${poolName}`,
    ]);
    return rows[0].n;
  } finally {
    await client.end();
  }
}

if (import.meta.main) {
  let requests: number;
  let concurrency: number;
  try {
    requests = envInteger(Deno.env, "REQUESTS", { fallback: 20_000, min: 1, max: 1_000_000, hint: "requests to send" });
    concurrency = envInteger(Deno.env, "CONCURRENCY", { fallback: 16, min: 1, max: 256, hint: "clients at once" });
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    console.error(error.message);
    Deno.exit(2);
  }
  const databaseUrl = Deno.env.get("DATABASE_URL");
  if (!databaseUrl) {
    console.error("DATABASE_URL is not set: run `deno task soak` (it provides one), or set it to a Postgres.");
    Deno.exit(2);
  }
  console.log(`Soak: ${requests} POST /api/good from ${concurrency} clients, FAIL_RATE=0.3, on 127.0.0.1`);
  const result = await soak({ databaseUrl, requests, concurrency, log: (line) => console.log(line) });
  console.log(
    `${result.requests} requests in ${result.seconds.toFixed(1)} s (${result.requestsPerSecond.toFixed(0)} req/s)`,
  );
  for (const { check, ok, detail } of result.checks) console.log(`  ${ok ? "ok  " : "FAIL"} ${check}: ${detail}`);
  Deno.exit(result.ok ? 0 : 1);
}
