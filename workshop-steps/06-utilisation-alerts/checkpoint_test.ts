/**
 * Checkpoint of step 6: `utilisation()` reads the pool as the next request
 * sees it, and the critical alert comes before the outage. The counters are
 * the real pool's, after each real request.
 */
import { FaultSchedule } from "../../lib/demo/fault_schedule.ts";
import { badQueryWithLeak } from "../../lib/demo/query_handlers.ts";
import { ALERT_THRESHOLDS, type Lease, PoolExhaustedError, type PoolStats } from "../../lib/pool.ts";
import { type Checkpoint, checkpoint } from "../../lib/workshop/checkpoint.ts";
import { listOf } from "../../lib/workshop/checkpoint_checks.ts";
import { backendsOf, checkpointPool } from "../../lib/workshop/checkpoint_database.ts";
import { CRITICAL_PERCENT, utilisation, WARNING_PERCENT } from "./utilisation.ts";

const step: Checkpoint = checkpoint({
  step: "06-utilisation-alerts",
  edit: "utilisation.ts",
  hint: new URL("./hint.md", import.meta.url),
});
const { warningPercent, criticalPercent } = ALERT_THRESHOLDS.utilisation;

/** The checkpoint's own reading of the stats: checked-out connections over max. */
function expected(stats: PoolStats): { percent: number; level: string } {
  const percent = Math.round((stats.active / stats.max) * 100);
  return { percent, level: percent >= criticalPercent ? "critical" : percent >= warningPercent ? "warning" : "ok" };
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
    let critical: number | undefined;
    let wrongPercent: string | undefined;
    try {
      for (let request = 1; request <= 2 * max + 1; request++) {
        let exhausted = false;
        await badQueryWithLeak(pool, faults).catch((error) => (exhausted = error instanceof PoolExhaustedError));
        const stats = pool.stats();
        const got = utilisation(stats);
        const want = expected(stats);
        // A wrong level fails at once (the alert that did not fire); a wrong percent at the end of the run.
        if (got?.level !== want.level || (got.percent !== want.percent && wrongPercent === undefined)) {
          const backends = await backendsOf(pool.name);
          const problem = `After request ${request} the pool of ${max} had ${stats.active} connection(s) checked ` +
            `out (${stats.leaked} of them leaked): ${want.percent} %, level "${want.level}". utilisation() said ` +
            `${got?.percent} %, "${got?.level}". The pool runs dry at request ${2 * max + 1}` +
            `${critical === undefined ? " with no critical alert before it" : ""}. Meanwhile Postgres showed the ` +
            `pool's ${backends.length} backends as ${listOf(backends.map((b) => b.state))}: ` +
            `only the pool knows they are taken.`;
          if (got?.level !== want.level) step.fail(problem);
          wrongPercent = problem;
        }
        if (got.level === "critical") critical ??= request;
        if (exhausted) {
          step.expect(
            critical !== undefined && critical < request,
            () => `Request ${request} found the pool of ${max} exhausted, and no critical alert came before it.`,
          );
          break;
        }
      }
      step.expect(wrongPercent === undefined, () => wrongPercent!);
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
        `Stats: ${JSON.stringify(stats)}.`,
    );
  } finally {
    for (const lease of held) lease.release();
    await pool.end();
  }
}));
