/**
 * Checkpoint of step 6: `utilisation()` reads the pool as the next request
 * sees it, and the critical alert comes before the outage. The counters are
 * the real pool's, after each real request.
 *
 * The README's scenario runs first (a pool of 5, every 2nd query failing and
 * leaking its connection), so the starter's message stays the one the README
 * quotes. Then seeded scenarios vary what that one holds fixed: the pool's
 * size (sizes where the share is not a whole percent, and a pool of 20 that
 * lands exactly on both thresholds), leaked connections mixed with ones held
 * by requests still running, idle connections open beside them, a request
 * waiting for a connection, and the pool going back down (requests finishing,
 * a leaked connection returned late) after it was full. Every reading is
 * judged: the percent is `active / max` rounded to the nearest whole percent
 * (at an exact half either way), and the level is the one of that percent —
 * or, where rounding alone reaches a threshold (84.6 % shows as 85), the one
 * of the unrounded share.
 */
import { FaultSchedule } from "leak-lab/demo/fault_schedule.ts";
import { badQueryWithLeak } from "leak-lab/demo/query_handlers.ts";
import { ALERT_THRESHOLDS, type Lease, PoolExhaustedError, type PoolStats } from "leak-lab/pool.ts";
import { type Checkpoint, checkpoint } from "leak-lab/workshop/checkpoint.ts";
import { listOf } from "leak-lab/workshop/checkpoint_checks.ts";
import type { SeededRandom } from "leak-lab/workshop/checkpoint_seed.ts";
import { backendsOf, checkpointPool } from "leak-lab/workshop/checkpoint_database.ts";
import { CRITICAL_PERCENT, utilisation, WARNING_PERCENT } from "./utilisation.ts";

const step: Checkpoint = checkpoint({ edit: "utilisation.ts" });
const { warningPercent, criticalPercent } = ALERT_THRESHOLDS.utilisation;
type Level = "ok" | "warning" | "critical";
/** What utilisation() returned, read without trusting its type (an attempt may change its own Utilisation). */
type Said = { percent?: unknown; level?: unknown };
const LEVELS: readonly Level[] = ["ok", "warning", "critical"];

const levelOf = (percent: number): Level =>
  percent >= criticalPercent ? "critical" : percent >= warningPercent ? "warning" : "ok";

/** What the checkpoint accepts for these stats, and the reading it shows. */
interface Accepted {
  /** `active / max` in percent, unrounded. */
  exact: number;
  /** The whole percents accepted: the nearest, or both at an exact half. */
  percents: number[];
  /** The levels accepted: the rounded percent's, and the unrounded share's where rounding alone reaches a threshold. */
  levels: Level[];
  /** The reading the checkpoint shows: the nearest whole percent (half up) and its level. */
  percent: number;
  level: Level;
}

function accepted(stats: PoolStats): Accepted {
  const { active, max } = stats;
  const exact = (active * 100) / max;
  const twice = 200 * active; // an exact half when 200·active/max is an odd whole number
  const half = twice % max === 0 && (twice / max) % 2 === 1;
  const percents = half ? [Math.floor(exact), Math.ceil(exact)] : [Math.round(exact)];
  const unrounded: Level = 100 * active >= criticalPercent * max
    ? "critical"
    : 100 * active >= warningPercent * max
    ? "warning"
    : "ok";
  const levels = [...new Set([...percents.map(levelOf), unrounded])];
  const percent = Math.round(exact);
  return { exact, percents, levels, percent, level: levelOf(percent) };
}

function isRight(stats: PoolStats, got: unknown): boolean {
  const want = accepted(stats);
  const reading = got as Said | null | undefined;
  return typeof reading?.percent === "number" && want.percents.includes(reading.percent) &&
    want.levels.includes(reading.level as Level);
}

/** A percent for a message: "70 %", or "84.6 % (85 % rounded)". */
function percentText(want: Accepted): string {
  if (Number.isInteger(want.exact)) return `${want.exact} %`;
  const shown = Number(want.exact.toFixed(1));
  return want.percents.length > 1
    ? `${shown} % (${want.percents.join(" or ")} % rounded)`
    : `${shown} % (${want.percent} % rounded)`;
}

function levelText(want: Accepted): string {
  if (want.levels.length === 1) return `level "${want.level}"`;
  return `level ${want.levels.map((l) => `"${l}"`).join(" or ")} (rounding alone reaches the threshold)`;
}

/** A value utilisation() returned, for a message: numbers as they are, anything else quoted in backticks. */
function said(value: unknown): string {
  if (typeof value === "number" && Number.isFinite(value)) return `${Number(value.toFixed(4))}`;
  if (typeof value === "string") return JSON.stringify(value);
  return `\`${typeof value === "number" ? String(value) : JSON.stringify(value) ?? String(value)}\``;
}

function gotText(got: unknown): string {
  if (got === null || typeof got !== "object" || typeof (got as { then?: unknown }).then === "function") {
    return `utilisation() returned ${got instanceof Promise ? "a Promise" : said(got)}`;
  }
  const { percent, level } = got as Said;
  return `utilisation() said ${said(percent)}${typeof percent === "number" ? " %" : ""}, ${said(level)}`;
}

/** One reading of the pool: what happened, the stats after it, and what utilisation() said. */
interface Row {
  /** Its place in {@linkcode HISTORY}. */
  index: number;
  request: number;
  /** What happened just before the reading, e.g. "request 4 (still running, holding its connection)". */
  what: string;
  stats: PoolStats;
  got: unknown;
  /** The request found the pool exhausted. */
  exhausted: boolean;
}

/** A way to misread the counters: the percent it gives, and what to say when an attempt reads them so. */
interface Misreading {
  percent(stats: PoolStats, earlier: readonly Row[]): number | undefined;
  /** Whether `got` is what this misreading gives (exactly, unless it says otherwise). */
  matches?(got: number, stats: PoolStats, earlier: readonly Row[]): boolean;
  say(stats: PoolStats, got: number, earlier: readonly Row[]): string;
}

const share = (n: number, max: number) => Math.round((n / max) * 100);

/** "utilisation() rounded down: …", with the floating-point reason when the share is a whole percent. */
function rounded(way: "down" | "up", stats: PoolStats, got: number): string {
  const { active, max } = stats;
  const want = accepted(stats);
  const noise = Number.isInteger(want.exact) && (active / max) * 100 !== want.exact
    ? ` (${active} / ${max} * 100 is ${(active / max) * 100} in floating point, and rounding it ${way} gives ${got})`
    : "";
  return `utilisation() rounded ${way}: ${active} of ${max} is ${percentText(want)}, not ${got} %${noise}; ` +
    "percent is rounded to the nearest whole percent.";
}

/** The known misreadings, most telling first. */
const MISREADINGS: readonly Misreading[] = [
  {
    percent: ({ active, max }) => active / max,
    matches: (got, { active, max }) => active > 0 && Math.abs(got * 100 - (active * 100) / max) < 1,
    say: (_, got) => `utilisation() returned the share as a fraction (${said(got)}): percent is 0–100.`,
  },
  {
    percent: ({ active, max }) => (active * 100) / max,
    matches: (got, { active, max }) => !Number.isInteger(got) && Math.abs(got - (active * 100) / max) < 1,
    say: (stats, got) =>
      `utilisation() did not round: percent is a whole percent, ${accepted(stats).percent} here, not ${said(got)}.`,
  },
  {
    percent: ({ available, total }) => (total > 0 ? Math.max(0, Math.round((1 - available / total) * 100)) : 0),
    say: ({ available, total, max }) =>
      `utilisation() compared stats.available with stats.total: available (${available}) counts against max ` +
      `(${max}), total (${total}) only the connections opened so far, so the two do not make a share until every ` +
      "connection is open.",
  },
  {
    percent: ({ active, leaked, max }) => share(active - leaked, max),
    matches: (got, { active, leaked, max }) => leaked > 0 && got === share(active - leaked, max),
    say: () =>
      "utilisation() left the leaked connections out: a leaked connection is as unavailable to the next " +
      "request as a busy one.",
  },
  {
    percent: ({ active, leaked, max }) => share(active + leaked, max),
    matches: (got, { active, leaked, max }) => leaked > 0 && got === share(active + leaked, max),
    say: ({ active, leaked, max }, got) =>
      `utilisation() counted the leaked connections twice: stats.leaked (${leaked}) is a part of stats.active ` +
      `(${active}), not extra connections. It over-alerts: ${got} % while ${active} of ${max} are out.`,
  },
  {
    percent: ({ leaked, max }) => share(leaked, max),
    matches: (got, { active, leaked, max }) => active > leaked && got === share(leaked, max),
    say: ({ active, leaked }) =>
      `utilisation() counted only the leaked connections: the ${active - leaked} busy with live requests are ` +
      "in use too.",
  },
  {
    percent: ({ active, waiting, max }) => share(active + waiting, max),
    matches: (got, { active, waiting, max }) => waiting > 0 && got === share(active + waiting, max),
    say: ({ active, waiting, max }) =>
      `utilisation() counted the ${waiting} request(s) waiting for a connection (stats.waiting) as in use: ` +
      `they hold none yet; ${active} of ${max} are checked out.`,
  },
  {
    percent: ({ total, max }) => share(total, max),
    matches: (got, { total, idle, max }) => idle > 0 && got === share(total, max),
    say: ({ total, idle }) =>
      `utilisation() counted the ${idle} idle connection(s) as in use: stats.total (${total}) is every open ` +
      "connection, idle ones included, and an idle one is ready for the next request.",
  },
  {
    percent: ({ total, idle, max }) => share(total - idle, max),
    say: ({ total, idle, active }) =>
      `utilisation() counted total - idle (${total} - ${idle}) as in use: stats.total also counts a connection the ` +
      `pool is still opening for a request that has none yet, so it reads high while only ${active} are handed ` +
      "out (stats.active).",
  },
  {
    percent: ({ max, idle }) => share(max - idle, max),
    say: ({ max, total }) =>
      `utilisation() counted the connections the pool has not opened yet as in use: only ${total} of the ` +
      `${max} are open (stats.total), and one not opened yet is free for the next request.`,
  },
  {
    percent: ({ active, total }) => (total > 0 ? Math.round((active / total) * 100) : undefined),
    say: ({ total, max }) =>
      `utilisation() divided by stats.total (${total}, the connections open right now) instead of ` +
      `stats.max (${max}, the most the pool will ever have).`,
  },
  {
    percent: ({ available, max }) => share(available, max),
    say: ({ available }) =>
      `utilisation() returned the free share: stats.available (${available}) is what is left, not what is in use.`,
  },
  {
    percent: ({ active, max }) => Math.round(active / max) * 100,
    say: ({ active, max }) =>
      `utilisation() rounded the share before making it a percent: ${active} of ${max} became 0 or 100. ` +
      "Round the percent, not the fraction.",
  },
  {
    percent: ({ active, max }) => Math.floor((active * 100) / max),
    matches: (got, { active, max }) =>
      [Math.floor((active * 100) / max), Math.floor((active / max) * 100)].includes(got),
    say: (stats, got) => rounded("down", stats, got),
  },
  {
    percent: ({ active, max }) => Math.ceil((active * 100) / max),
    matches: (got, { active, max }) => [Math.ceil((active * 100) / max), Math.ceil((active / max) * 100)].includes(got),
    say: (stats, got) => rounded("up", stats, got),
  },
  {
    percent: ({ active, max }, earlier) =>
      earlier.map((e) => e.stats.max).filter((m) => m !== max).map((m) => share(active, m))[0],
    matches: (got, { active, max }, earlier) =>
      earlier.some((e) => e.stats.max !== max && share(active, e.stats.max) === got),
    say: ({ active, max }, got, earlier) =>
      `utilisation() divided by ${
        earlier.find((e) => e.stats.max !== max && share(active, e.stats.max) === got)?.stats.max
      }, the size of a pool it was given earlier, not this pool's stats.max (${max}): each call's stats are its own.`,
  },
];

function explains(m: Misreading, row: Row, earlier: readonly Row[]): boolean {
  const got = (row.got as Said | undefined)?.percent;
  if (typeof got !== "number" || accepted(row.stats).percents.includes(got)) return false;
  return m.matches ? m.matches(got, row.stats, earlier) : m.percent(row.stats, earlier) === got;
}

/** A way to pick the level wrongly from the right percent, and what to say about it. */
interface LevelMisreading {
  level(stats: PoolStats): Level;
  say(stats: PoolStats, got: Level): string;
}

const byPercent = (percent: number, strict: boolean): Level =>
  (strict ? percent > criticalPercent : percent >= criticalPercent)
    ? "critical"
    : (strict ? percent > warningPercent : percent >= warningPercent)
    ? "warning"
    : "ok";

/** The known ways to pick the level wrongly, most telling first. */
const LEVEL_MISREADINGS: readonly LevelMisreading[] = [
  {
    level: (stats) => byPercent(accepted(stats).percent, true),
    say: (stats) => {
      const want = accepted(stats);
      return `At exactly ${want.percent} % the level is already "${want.level}": each level starts at its ` +
        `threshold (${warningPercent} % is a warning, ${criticalPercent} % critical), so compare with >=, not >.`;
    },
  },
  {
    level: (stats) => stats.available === 0 ? "critical" : accepted(stats).percent >= warningPercent ? "warning" : "ok",
    say: (stats) =>
      `At ${percentText(accepted(stats))} the level is "critical", yet utilisation() said "warning": it said ` +
      `"critical" only once no connection was left. Critical starts at ${criticalPercent} %, so the page comes ` +
      "before the outage, not with it.",
  },
  {
    level: (stats) => accepted(stats).percent >= warningPercent ? "warning" : "ok",
    say: (stats) =>
      `At ${percentText(accepted(stats))} the level is "critical", yet utilisation() said "warning": "critical" from ` +
      `${criticalPercent} %, whatever else is also true of the pool (it is at least ${warningPercent} % too).`,
  },
  {
    level: ({ active, max }) =>
      active >= Math.round((max * criticalPercent) / 100)
        ? "critical"
        : active >= Math.round((max * warningPercent) / 100)
        ? "warning"
        : "ok",
    say: ({ active, max }) =>
      `utilisation() turned the thresholds into connection counts and rounded them: ${criticalPercent} % of ${max} ` +
      `is ${(max * criticalPercent) / 100} connections and ${warningPercent} % is ${(max * warningPercent) / 100}, ` +
      `so at ${active} of ${max} the level follows the rounding, not the thresholds.`,
  },
  {
    level: (stats) => levelOf(share(stats.leaked, stats.max)),
    say: ({ leaked, max, active }) =>
      `The percent is right, the level is not: it follows only the leaked connections (${leaked} of ${max}), ` +
      `while the percent counts all ${active} checked out. The level is that of the percent: "ok" below ` +
      `${warningPercent} %, "warning" from ${warningPercent} %, "critical" from ${criticalPercent} %.`,
  },
  {
    level: (stats) => levelOf(share(stats.active - stats.leaked, stats.max)),
    say: ({ leaked, max, active }) =>
      `The percent is right, the level is not: it leaves the ${leaked} leaked connection(s) out (${
        active - leaked
      } of ${max}), while the percent counts all ${active} checked out.`,
  },
];

/** A level mistake: the percent is right, the level follows something else. */
function levelMistake(
  row: Row,
  earlier: readonly Row[],
  scenario: readonly Row[],
  all: readonly Row[],
  level: Level,
): string {
  const { stats } = row;
  const { active, max } = stats;
  const want = accepted(stats);
  const rank = (l: Level) => LEVELS.indexOf(l);
  const higher = rank(level) > Math.max(...want.levels.map(rank));
  const before = [...earlier].reverse().find((e) =>
    (e.got as Said | undefined)?.level === level && e.stats.active / e.stats.max > active / max
  );
  if (higher && before) {
    const where = scenario.includes(before) ? "" : " in an earlier pool";
    return `The pool is down to ${active} of ${max} checked out, but utilisation() still said "${level}", as it did ` +
      `at ${before.stats.active} of ${before.stats.max}${where} (after ${before.what}): the level is the one of the ` +
      "stats it is given now, not of an earlier call.";
  }
  // The level rule that explains the most readings of this scenario (where the percent was right) wins.
  const best = LEVEL_MISREADINGS
    .filter((m) => m.level(stats) === level)
    .map((m) => ({
      m,
      score: all.filter((r) => {
        const said = r.got as Said | undefined;
        return accepted(r.stats).percents.includes(said?.percent as number) && m.level(r.stats) === said?.level;
      }).length,
    }))
    .sort((a, b) => b.score - a.score)[0];
  if (best) return best.m.say(stats, level);
  return `The percent is right, the level is not: "ok" below ${warningPercent} %, "warning" from ` +
    `${warningPercent} %, "critical" from ${criticalPercent} %.`;
}

/**
 * Why utilisation() gave `got` where the pool is at `want`: the known ways to
 * misread the counters, the one that explains the most readings of this
 * scenario first. `earlier` is every reading before this one, of any pool.
 */
function diagnose(row: Row, scenario: readonly Row[], all: readonly Row[]): string {
  const { stats } = row;
  const earlier = HISTORY.slice(0, row.index);
  const got = row.got;
  if (got instanceof Promise) {
    return "utilisation() returned a Promise: it must return { percent, level } itself (the counters are all in " +
      "the stats it is given, nothing to await).";
  }
  if (got === null || typeof got !== "object") {
    return `utilisation() must return an object { percent, level }; it returned ${said(got)}.`;
  }
  const { percent, level } = got as { percent: unknown; level: unknown };
  if (typeof percent !== "number" || !Number.isFinite(percent)) {
    return `percent must be a number from 0 to 100; utilisation() returned ${said(percent)}, a ${
      percent === null ? "null" : typeof percent
    }${typeof percent === "string" ? " (toFixed() returns a string)" : ""}.`;
  }
  if (accepted(stats).percents.includes(percent)) {
    if (!LEVELS.includes(level as Level)) {
      return `The level must be one of "ok", "warning" or "critical", exactly so; utilisation() returned ${
        said(level)
      }.`;
    }
    return levelMistake(row, earlier, scenario, all, level as Level);
  }
  const candidates = MISREADINGS.filter((m) => explains(m, row, earlier));
  const score = (m: Misreading) => all.filter((r) => explains(m, r, HISTORY.slice(0, r.index))).length;
  const best = candidates.map((m) => ({ m, score: score(m) })).sort((a, b) => b.score - a.score)[0];
  if (best) return best.m.say(stats, percent, earlier);
  const { active, leaked, max } = stats;
  return `The pool is at ${percentText(accepted(stats))} (${active} of ${max} checked out, ${leaked} of them leaked).`;
}

/** The alert sentence: whether the critical alert came before the outage. */
function alertSentence(rows: readonly Row[]): string {
  const outageAt = rows.findIndex((row) => row.exhausted);
  const beforeOutage = outageAt === -1 ? rows : rows.slice(0, outageAt);
  const critical = beforeOutage.findIndex((row) => (row.got as Said | undefined)?.level === "critical");
  const due = rows.findIndex((row) => accepted(row.stats).levels.includes("critical"));
  const outage = outageAt === -1 ? undefined : rows[outageAt].request;
  if (critical === -1) {
    return outage === undefined
      ? "utilisation() never said critical, not even when every connection was out."
      : `The pool ran dry at request ${outage} with no critical alert before it.`;
  }
  if (due === -1 || critical < due) {
    return `The critical alert fired at request ${
      beforeOutage[critical].request
    }, before the pool was at ${criticalPercent} %.`;
  }
  return outage === undefined
    ? `The critical alert came at request ${beforeOutage[critical].request}.`
    : `The critical alert came at request ${beforeOutage[critical].request}; the pool ran dry at request ${outage}.`;
}

/** What Postgres showed for the pool when it was full: the leaked and held connections sit idle. */
type Backends = { pid: number; state: string }[];

/** One scenario's readings, and what Postgres showed when its pool was full. */
interface Scenario {
  /** "" for the README's scenario, else "In scenario N (seeded: a pool of M)". */
  name: string;
  rows: Row[];
  backends: Backends;
}

/** The message for the scenario's first wrong reading, if it has one; misreadings are scored on every reading. */
function firstWrong({ name, rows, backends }: Scenario): string | undefined {
  const at = rows.findIndex((row) => !isRight(row.stats, row.got));
  if (at === -1) return undefined;
  const row = rows[at];
  const want = accepted(row.stats);
  const { active, leaked, max, waiting } = row.stats;
  const busy = active - leaked;
  const held = active === 0
    ? ""
    : leaked === 0
    ? " (none leaked: all held by requests still running)"
    : busy === 0
    ? ` (${leaked} of them leaked)`
    : ` (${leaked} of them leaked, ${busy} held by requests still running)`;
  const queued = waiting > 0 ? `, and ${waiting} request(s) waiting for one` : "";
  const lead = name ? `${name}, after ${row.what},` : `After ${row.what}`;
  return (
    `${lead} the pool of ${max} had ${active} connection(s) checked out${held}${queued}: ` +
    `${percentText(want)}, ${levelText(want)}. ${gotText(row.got)}. ${diagnose(row, rows, HISTORY)} ` +
    `${alertSentence(rows)} ` +
    `When the pool was full, Postgres showed its ${backends.length} backends as ` +
    `${listOf(backends.map((b) => b.state))}: only the pool knows they are taken.`
  );
}

/** Every reading of this test, of every pool, in order: an attempt that remembers earlier calls is judged on them. */
const HISTORY: Row[] = [];

/** Reads the pool, asks utilisation(), and records the reading in `rows` and {@linkcode HISTORY}. */
function record(rows: Row[], fields: { request: number; what: string; stats: PoolStats; exhausted?: boolean }): Row {
  const row = { ...fields, exhausted: fields.exhausted ?? false, got: read(fields.stats), index: HISTORY.length };
  HISTORY.push(row);
  rows.push(row);
  return row;
}

/** Calls utilisation() on a copy of the stats, so an attempt that changes them cannot change the checkpoint's. */
function read(stats: PoolStats): unknown {
  try {
    return utilisation({ ...stats });
  } catch (error) {
    step.fail(
      `utilisation() threw on the stats ${JSON.stringify(stats)}: ${
        error instanceof Error ? `${error.name}: ${error.message}` : String(error)
      }. It is given the counters of a real pool and should read them, not throw.`,
      error,
    );
  }
}

const newPool = (max: number) => checkpointPool("step06", { max, acquireTimeoutMs: 250 });

/** The README's scenario: a pool of 5, every 2nd query failing and leaking, until a request finds it exhausted. */
async function leakingSeries(max: number): Promise<Scenario> {
  const pool = newPool(max);
  const faults = new FaultSchedule({ failEvery: 2 });
  const rows: Row[] = [];
  try {
    let backends: Backends | undefined;
    for (let request = 1; request <= 2 * max + 1; request++) {
      let exhausted = false;
      await badQueryWithLeak(pool, faults).catch((error) => (exhausted = error instanceof PoolExhaustedError));
      const stats = pool.stats();
      if (stats.active === max && !backends) backends = await backendsOf(pool.name);
      record(rows, { request, what: `request ${request}`, stats, exhausted });
      if (exhausted) break;
    }
    return { name: "", rows, backends: backends ?? await backendsOf(pool.name) };
  } finally {
    await pool.end();
  }
}

type Up = "leak-query" | "leak-kept" | "busy";

/**
 * A seeded scenario on a pool of `max`: requests that leak (a failed query, or
 * one that ends without returning) mixed with requests still running, a few
 * that succeed and leave an idle connection behind, one or two going back
 * down before the pool is full, a request waiting for a connection and
 * finding the pool exhausted, then the held connections coming back one by
 * one (a leaked one returned late among them).
 */
async function seededSeries(index: number, max: number, random: SeededRandom): Promise<Scenario> {
  const pool = newPool(max);
  const failing = new FaultSchedule({ failEvery: 1 });
  const succeeding = new FaultSchedule({ failEvery: 0 });
  const rows: Row[] = [];
  const busy: { request: number; lease: Lease }[] = [];
  const kept: { request: number; lease: Lease }[] = [];
  let request = 0;
  const reading = (what: string, exhausted = false) => {
    const stats = pool.stats();
    record(rows, { request, what, stats, exhausted });
  };
  // Which of the climbing requests leak and which are still running: at least one of each, more when room.
  const ups: Up[] = Array.from(
    { length: max },
    (_, i) => (i % 2 === 0 ? "busy" : random.pick(["leak-query", "leak-kept"] as const)),
  );
  const climb = random.shuffle(ups);
  // One or two go back down on the way up (a request finishing, a leaked connection returned late).
  const downsAt = new Set(random.sample(Math.min(2, max - 1), 2, max));
  // A few succeed and return their connection: an idle one is open beside the checked-out ones.
  const okAt = new Set(random.sample(Math.min(3, max), 1, max));
  const up = async (kind: Up) => {
    request++;
    if (kind === "busy") {
      const opening = pool.stats().idle === 0;
      const acquiring = pool.acquire();
      // No idle connection: the pool opens a new one, and counts it in stats.total before it is handed out.
      if (opening) reading(`request ${request} asked for a connection and the pool is opening a new one for it`);
      busy.push({ request, lease: await acquiring });
      reading(`request ${request} took a connection and is still running`);
    } else if (kind === "leak-query") {
      await badQueryWithLeak(pool, failing).catch(() => {});
      reading(`request ${request}'s query failed and it kept its connection`);
    } else {
      const mine = request;
      await pool.scope("ends_without_release", async () => {
        kept.push({ request: mine, lease: await pool.acquire() });
      });
      reading(`request ${request} ended without returning its connection`);
    }
  };
  const down = (which: "busy" | "kept") => {
    const list = which === "busy" ? busy : kept;
    const [one] = list.splice(random.int(0, list.length - 1), 1);
    one.lease.release();
    reading(
      which === "busy"
        ? `request ${one.request} finished and returned its connection`
        : `request ${one.request} returned its leaked connection late`,
    );
    return one;
  };
  try {
    const pending = [...climb];
    for (let n = 1; pending.length > 0; n++) {
      const kind = pending.shift()!;
      await up(kind);
      if (okAt.has(n) && pool.stats().active < max) {
        request++;
        await badQueryWithLeak(pool, succeeding);
        reading(`request ${request}'s query succeeded and it returned its connection`);
      }
      if (downsAt.has(n) && pool.stats().active < max && (busy.length > 0 || kept.length > 0)) {
        const which = busy.length > 0 && (kept.length === 0 || random.next() < 0.5) ? "busy" : "kept";
        down(which);
        pending.push(which === "busy" ? "busy" : "leak-kept"); // the pool still fills up
      }
    }
    // Full: the next request waits, then finds the pool exhausted.
    const backends: Backends = await backendsOf(pool.name);
    request++;
    const waiter = pool.acquire();
    const outcome = waiter.then((lease) => lease, (error) => error);
    for (let tries = 0; pool.stats().waiting === 0 && tries < 50; tries++) {
      await new Promise((resolve) => setTimeout(resolve, 2));
    }
    if (pool.stats().waiting > 0) reading(`request ${request} asked for a connection and is waiting`);
    const result = await outcome;
    if (!(result instanceof PoolExhaustedError)) {
      if (typeof (result as Lease)?.release === "function") (result as Lease).release();
      throw result instanceof Error ? result : new Error(`A waiting request got ${String(result)}`);
    }
    reading(`request ${request} found the pool exhausted`, true);
    // Back down, one by one.
    while (busy.length > 0 || kept.length > 0) {
      down(busy.length > 0 && (kept.length === 0 || random.next() < 0.6) ? "busy" : "kept");
    }
    return { name: `In scenario ${index} (seeded: a pool of ${max})`, rows, backends };
  } finally {
    for (const { lease } of [...busy, ...kept]) lease.release();
    await pool.end();
  }
}

Deno.test(step.test("utilisation() raises warning and critical before the leaking pool runs dry", async () => {
  step.expect(
    WARNING_PERCENT === warningPercent && CRITICAL_PERCENT === criticalPercent,
    () =>
      `The thresholds are ${warningPercent} % (warning) and ${criticalPercent} % (critical), from ALERT_THRESHOLDS; ` +
      `the file sets ${WARNING_PERCENT} and ${CRITICAL_PERCENT}.`,
  );
  const scenarios = [await leakingSeries(5)];
  const random = step.random("step06 scenarios");
  // Sizes where the share is rarely a whole percent (and 84.6 % rounds to 85 at 13), an exact half at 8, and a
  // pool of 20 that lands on both thresholds exactly (14 and 17 connections out).
  const sizes = random.shuffle([random.pick([3, 6, 7, 9, 11, 13]), random.pick([8, 12, 14, 16]), 20]);
  for (const [i, max] of sizes.entries()) {
    scenarios.push(await seededSeries(i + 2, max, step.random(`step06 scenario ${i + 2}`)));
  }
  // Every scenario ran before any is judged, so a misreading is told by all the readings, not one pool's.
  for (const scenario of scenarios) {
    const problem = firstWrong(scenario);
    if (problem) step.fail(problem);
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
    const row = record([], { request: busy, what: `${busy} requests took a connection each`, stats });
    const { got } = row;
    const want = accepted(stats);
    step.expect(
      isRight(stats, got),
      () =>
        `With ${busy} of 10 connections held by requests still running (none leaked), the pool is at ` +
        `${want.percent} %: "${want.level}". ${gotText(got)}. ${diagnose(row, [row], [row])} Stats: ${
          JSON.stringify(stats)
        }.`,
    );
  } finally {
    for (const lease of held) lease.release();
    await pool.end();
  }
}));
