// The page's alert panel logic, with no DOM so tests can import it: read the service's own
// GET /metrics (the scrape Prometheus reads), keep the scrapes of the last window, and say which of
// prometheus/alerts.yml's alerts would be firing now, at the thresholds GET /api/info sends
// (ALERT_THRESHOLDS). `for:` is not waited out here: "would fire" means the condition holds now.

const SAMPLE = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})?\s+(\S+)/;
const LABEL = /([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g;

/** @typedef {{ name: string, labels: Record<string, string>, value: number }} Sample */

/**
 * Parses a Prometheus text scrape into samples (comments skipped).
 * @param {string} text
 * @returns {Sample[]}
 */
export function parseScrape(text) {
  /** @type {Sample[]} */
  const samples = [];
  for (const line of text.split("\n")) {
    if (line === "" || line.startsWith("#")) continue;
    const match = SAMPLE.exec(line);
    if (!match) continue;
    /** @type {Record<string, string>} */
    const labels = {};
    for (const [, key, value] of (match[2] ?? "").matchAll(LABEL)) {
      labels[key] = value.replace(/\\(.)/g, (_, c) => (c === "n" ? "\n" : c));
    }
    samples.push({ name: match[1], labels, value: Number(match[3].replace("+Inf", "Infinity")) });
  }
  return samples;
}

/**
 * @typedef {{ used: number, max: number, leaked: number, oldestLeaseAge: number, leakThreshold: number,
 *   timeouts: number, waits: number, waitsWithinLimit: number }} Reading
 * @typedef {{ alert: string, severity: string }} Rule
 * @typedef {{ alert: string, severity: string, firing: boolean, detail: string }} AlertState
 * @typedef {{ utilisation: { warningPercent: number, criticalPercent: number }, acquireWaitSeconds: number }} Thresholds
 */

/**
 * The numbers the alerts look at, for one pool: what a scrape says about it.
 * @param {Sample[]} samples
 * @param {string} poolName
 * @param {number} acquireWaitSeconds
 * @returns {Reading}
 */
export function poolReading(samples, poolName, acquireWaitSeconds) {
  const mine = samples.filter((s) => s.labels.db_client_connection_pool_name === poolName);
  /** @type {(name: string, extra?: (labels: Record<string, string>) => boolean) => number | undefined} */
  const value = (name, extra = () => true) => mine.find((s) => s.name === name && extra(s.labels))?.value;
  return {
    used: value("db_client_connection_count", (l) => l.db_client_connection_state === "used") ?? 0,
    max: value("db_client_connection_max") ?? 0,
    leaked: value("leaklab_db_client_connection_leaked") ?? 0,
    oldestLeaseAge: value("leaklab_db_client_connection_oldest_lease_age") ?? 0,
    leakThreshold: value("leaklab_db_client_connection_leak_threshold") ?? 0,
    timeouts: value("db_client_connection_timeouts_total") ?? 0,
    waits: value("db_client_connection_wait_time_count") ?? 0,
    // The bucket whose upper bound is the threshold: the exporter writes its `le` as String(bound).
    waitsWithinLimit: value("db_client_connection_wait_time_bucket", (l) => l.le === String(acquireWaitSeconds)) ?? 0,
  };
}

/**
 * Which alerts would fire now. `history` holds `{ at, reading }` scrapes, oldest first, the last one
 * being now; windowed alerts compare it with the oldest scrape inside `windowMs` (or the oldest kept).
 * Returns one state per rule, in the rules' order.
 * @param {Rule[]} rules
 * @param {Thresholds} thresholds
 * @param {{ at: number, reading: Reading }[]} history
 * @param {number} windowMs
 * @returns {AlertState[]}
 */
export function evaluateAlerts(rules, thresholds, history, windowMs) {
  const last = history[history.length - 1];
  const { at, reading: now } = last;
  const since = history.find((h) => h.at >= at - windowMs) ?? history[0];
  const before = since.reading;
  const windowText = since === last
    ? "since the last scrape"
    : since === history[0] && at - since.at < windowMs
    ? `since this page started reading /metrics ${seconds(at - since.at)} ago`
    : `in the last ${seconds(windowMs)}`;
  const { warningPercent, criticalPercent } = thresholds.utilisation;
  const percent = now.max > 0 ? (100 * now.used) / now.max : 0;
  const inUse = `${now.used} of ${now.max} connections in use (${Math.round(percent)} %)`;
  const waits = now.waits - before.waits;
  const slow = waits - (now.waitsWithinLimit - before.waitsWithinLimit);
  const timeouts = now.timeouts - before.timeouts;
  // A windowed alert outlives its cause: after a reset the pool is healthy, yet the timeouts of the last
  // window still count. Say so, and when it clears: a window after the last scrape that saw one more.
  const rise = history.findLast((h, i) =>
    i > 0 && h.at >= since.at && h.reading.timeouts > history[i - 1].reading.timeouts
  );
  const clearsIn = Math.max(0, (rise ?? since).at + windowMs - at);
  const stillFiring = now.used < now.max
    ? `; none is timing out now, but this alert counts the last ${seconds(windowMs)} (a rate over a window), so ` +
      `it keeps firing after a reset: it clears in about ${seconds(clearsIn)} if no acquire times out meanwhile`
    : "";
  /** @type {Record<string, () => [boolean, string]>} */
  const checks = {
    DbPoolUtilisationWarning: () => [percent >= warningPercent, `${inUse}; warning at ${warningPercent} %`],
    DbPoolUtilisationCritical: () => [percent >= criticalPercent, `${inUse}; critical at ${criticalPercent} %`],
    DbPoolAcquireWaitSlow: () => [
      waits > 0 && slow > 0.05 * waits,
      `${slow} of ${waits} acquires waited over ${thresholds.acquireWaitSeconds} s ${windowText}; ` +
      `alert when more than 1 in 20 do`,
    ],
    DbPoolConnectionLeaked: () => [now.leaked > 0, `${now.leaked} leaked connection(s) not returned`],
    DbPoolConnectionHeldTooLong: () => [
      now.leakThreshold > 0 && now.oldestLeaseAge > now.leakThreshold,
      now.leakThreshold > 0
        ? `longest-held connection out for ${seconds(now.oldestLeaseAge * 1000)}; leak threshold ` +
          `${seconds(now.leakThreshold * 1000)}`
        : "leak threshold off (LEAK_THRESHOLD_MS=0)",
    ],
    DbPoolAcquireTimeouts: () => [
      timeouts > 0,
      `${timeouts} acquire(s) timed out ${windowText}${timeouts > 0 ? stillFiring : ""}`,
    ],
  };
  return rules.map(({ alert, severity }) => {
    const check = checks[alert];
    if (!check) return { alert, severity, firing: false, detail: "not evaluated on this page" };
    const [firing, detail] = check();
    return { alert, severity, firing, detail };
  });
}

/** @param {number} ms */
function seconds(ms) {
  if (ms < 60_000) return `${(ms / 1000).toFixed(1)} s`;
  const rest = Math.round((ms % 60_000) / 1000);
  return rest === 0 ? `${Math.floor(ms / 60_000)} min` : `${Math.floor(ms / 60_000)} min ${rest} s`;
}
