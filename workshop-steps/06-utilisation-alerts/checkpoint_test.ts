/**
 * Checkpoint of step 6: `utilisation()` reads the pool as the next request
 * sees it, and the critical alert comes before the outage. The counters are
 * the real pool's, after each real request.
 */
import { FaultSchedule } from "leak-lab/demo/fault_schedule.ts";
import { badQueryWithLeak } from "leak-lab/demo/query_handlers.ts";
import { ALERT_THRESHOLDS, type Lease, PoolExhaustedError, type PoolStats } from "leak-lab/pool.ts";
import { type Checkpoint, checkpoint } from "leak-lab/workshop/checkpoint.ts";
import { listOf } from "leak-lab/workshop/checkpoint_checks.ts";
import { backendsOf, checkpointPool } from "leak-lab/workshop/checkpoint_database.ts";
import { CRITICAL_PERCENT, type Utilisation, utilisation, WARNING_PERCENT } from "./utilisation.ts";

const step: Checkpoint = checkpoint({ edit: "utilisation.ts" });
const { warningPercent, criticalPercent } = ALERT_THRESHOLDS.utilisation;
const LEVELS = ["ok", "warning", "critical"];

/** The checkpoint's own reading of the stats: checked-out connections over max. */
function expected(stats: PoolStats): { percent: number; level: string } {
  const percent = Math.round((stats.active / stats.max) * 100);
  return { percent, level: percent >= criticalPercent ? "critical" : percent >= warningPercent ? "warning" : "ok" };
}

/** Why utilisation() gave `got` where the pool is at `want`: the known ways to misread the counters. */
function diagnose(stats: PoolStats, got: { percent: number; level: string }, want: { percent: number }): string {
  const { active, leaked, max, total } = stats;
  const as = (n: number) => Math.round((n / max) * 100);
  if (got.percent === want.percent) {
    const edge = want.percent === warningPercent || want.percent === criticalPercent;
    return edge && LEVELS.indexOf(got.level) < LEVELS.indexOf(expected(stats).level)
      ? `At exactly ${want.percent} % the level is already "${expected(stats).level}": each level starts at its ` +
        "threshold (70 % is a warning, 85 % critical), so compare with >=, not >."
      : `The percent is right, the level is not: "ok" below ${warningPercent} %, "warning" from ` +
        `${warningPercent} %, "critical" from ${criticalPercent} %.`;
  }
  if (leaked > 0 && got.percent === as(active - leaked)) {
    return "utilisation() left the leaked connections out: a leaked connection is as unavailable to the next " +
      "request as a busy one.";
  }
  if (leaked > 0 && got.percent === as(active + leaked)) {
    return `utilisation() counted the leaked connections twice: stats.leaked (${leaked}) is a part of stats.active ` +
      `(${active}), not extra connections. It over-alerts: ${got.percent} % while ${active} of ${max} are out.`;
  }
  if (active > leaked && got.percent === as(leaked)) {
    return `utilisation() counted only the leaked connections: the ${active - leaked} busy with live requests are ` +
      "in use too.";
  }
  if (total > 0 && total !== max && got.percent === Math.round((active / total) * 100)) {
    return `utilisation() divided by stats.total (${total}, the connections open right now) instead of ` +
      `stats.max (${max}, the most the pool will ever have).`;
  }
  if (Math.abs(got.percent * 100 - active / max * 100) < 1) {
    return `utilisation() returned the share as a fraction (${got.percent}): percent is 0–100.`;
  }
  return `The pool is at ${want.percent} % (${active} of ${max} checked out, ${leaked} of them leaked).`;
}

const newPool = (max: number) => checkpointPool("step06", { max, acquireTimeoutMs: 250 });

Deno.test(step.test("utilisation() raises warning and critical before the leaking pool runs dry", async () => {
  step.expect(
    WARNING_PERCENT === warningPercent && CRITICAL_PERCENT === criticalPercent,
    () =>
      `The thresholds are ${warningPercent} % (warning) and ${criticalPercent} % (critical), from ALERT_THRESHOLDS; ` +
      `the file sets ${WARNING_PERCENT} and ${CRITICAL_PERCENT}.`,
  );
  for (const max of [5, 10, 20]) {
    const pool = newPool(max);
    const faults = new FaultSchedule({ failEvery: 2 });
    const rows: { request: number; stats: PoolStats; got: Utilisation; exhausted: boolean }[] = [];
    try {
      for (let request = 1; request <= 2 * max + 1; request++) {
        let exhausted = false;
        await badQueryWithLeak(pool, faults).catch((error) => (exhausted = error instanceof PoolExhaustedError));
        const stats = pool.stats();
        rows.push({ request, stats, got: utilisation(stats), exhausted });
        if (exhausted) break;
      }
      const outage = rows.find((row) => row.exhausted)?.request;
      const critical = rows.find((row) => row.got?.level === "critical")?.request;
      const wrong = rows.find((row) => {
        const want = expected(row.stats);
        return row.got?.percent !== want.percent || row.got?.level !== want.level;
      });
      if (!wrong) continue;
      const want = expected(wrong.stats);
      const backends = await backendsOf(pool.name);
      const alert = critical === undefined
        ? `The pool ran dry at request ${outage} with no critical alert before it.`
        : critical < (rows.find((row) => expected(row.stats).level === "critical")?.request ?? Infinity)
        ? `The critical alert fired at request ${critical}, before the pool was at ${criticalPercent} %.`
        : `The critical alert came at request ${critical}; the pool ran dry at request ${outage}.`;
      step.fail(
        `After request ${wrong.request} the pool of ${max} had ${wrong.stats.active} connection(s) checked out ` +
          `(${wrong.stats.leaked} of them leaked): ${want.percent} %, level "${want.level}". utilisation() said ` +
          `${wrong.got?.percent} %, "${wrong.got?.level}". ${diagnose(wrong.stats, wrong.got, want)} ${alert} ` +
          `Meanwhile Postgres showed the pool's ${backends.length} backends as ` +
          `${listOf(backends.map((b) => b.state))}: only the pool knows they are taken.`,
      );
    } finally {
      await pool.end();
    }
  }
}));

Deno.test(step.test("utilisation() counts connections held by live requests as well as leaked ones", async () => {
  const pool = newPool(10);
  const held: Lease[] = [];
  try {
    // At the warning threshold (7 of 10), with connections that are busy, not leaked.
    const busy = Math.ceil(warningPercent / 10);
    for (let i = 0; i < busy; i++) held.push(await pool.acquire());
    const stats = pool.stats();
    const got = utilisation(stats);
    const want = expected(stats);
    step.expect(
      got.percent === want.percent && got.level === want.level,
      () =>
        `With ${busy} of 10 connections held by requests still running (none leaked), the pool is at ` +
        `${want.percent} %: "${want.level}". utilisation() said ${got.percent} %, "${got.level}". ` +
        `${diagnose(stats, got, want)} Stats: ${JSON.stringify(stats)}.`,
    );
  } finally {
    for (const lease of held) lease.release();
    await pool.end();
  }
}));
