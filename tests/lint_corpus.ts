/**
 * The corpus for `leak-lab/release-on-every-path`: small handlers, leaking and
 * correct, each with the exact diagnostics the rule must give (message, hint,
 * the code it covers and its line) and, where it offers one, the fixed code.
 * tests/lint_rule_test.ts runs it under `deno lint`, tests/lint_eslint_test.ts
 * under ESLint.
 */

/** What one diagnostic must be. */
export interface Expected {
  line: number;
  /** The source text the diagnostic covers. */
  covers: string;
  message: string;
  hint: string;
  /** The whole source after the fix (USING: the case's source with `await using`), undefined when none may be offered. */
  fixed?: string | typeof USING;
}

export interface Case {
  name: string;
  source: string;
  expect: Expected[];
}

/** The hint of most shapes: `await using` for TracedPool leases, only `finally` for pg's clients. */
const usingHint = (name: string, acquire = "pool.acquire()") =>
  acquire.endsWith(".connect()")
    ? `Start \`try { … } finally { ${name}.release(); }\` on the line right after the acquire (pg's clients are ` +
      "not disposable: no `await using`)."
    : `Declare it with \`await using ${name} = await ${acquire};\` (TracedPool), or start ` +
      `\`try { … } finally { ${name}.release(); }\` on the line right after the acquire.`;

const beforeTryHint = (line: number, name: string, acquire = "pool.acquire()") =>
  `Start the \`try\` on the line right after the acquire (move line ${line} inside it)` +
  (acquire.endsWith(".connect()") ? "." : `, or declare \`await using ${name} = await ${acquire};\`.`);

/** `source` with `const conn` (the first `const NAME = await pool.acquire()`) turned into `await using`. */
export const withUsing = (source: string) =>
  source.replace(/const (\w+) = await pool\.acquire\(\)/, "await using $1 = await pool.acquire()");

/** `fixed` shorthand: the case's source with its first `const NAME = await pool.acquire()` made `await using`. */
export const USING = Symbol("await using");

const lines = (...code: string[]) => code.join("\n") + "\n";

const BAD_HANDLER = lines(
  "async function badQuery(pool, faults) {",
  "  const conn = await pool.acquire();",
  "  const rows = await readSensors(conn, faults);",
  "  conn.release();",
  "  return rows;",
  "}",
);

const NEVER = lines(
  "async function count(pool) {",
  "  const conn = await pool.acquire();",
  "  return (await conn.query('SELECT count(*) FROM sensors')).rows;",
  "}",
);

const ONLY_CATCH = lines(
  "async function read(pool) {",
  "  const conn = await pool.acquire();",
  "  try {",
  "    return await conn.query('SELECT 1');",
  "  } catch (error) {",
  "    conn.release();",
  "    throw error;",
  "  }",
  "}",
);

const CONDITIONAL_FINALLY = lines(
  "async function read(pool, keep) {",
  "  const conn = await pool.acquire();",
  "  try {",
  "    return await conn.query('SELECT 1');",
  "  } finally {",
  "    if (!keep) conn.release();",
  "  }",
  "}",
);

const UNAWAITED = lines(
  "async function listSensors(pool, faults) {",
  "  const conn = await pool.acquire();",
  "  try {",
  "    return readSensors(conn, faults);",
  "  } finally {",
  "    conn.release();",
  "  }",
  "}",
);

const ALIAS_SUCCESS = lines(
  "async function read(pool) {",
  "  const conn = await pool.acquire();",
  "  const c = conn;",
  "  const rows = await c.query('SELECT 1');",
  "  c.release();",
  "  return rows;",
  "}",
);

const LOOP_SUCCESS = lines(
  "async function each(pool, ids) {",
  "  for (const id of ids) {",
  "    const conn = await pool.acquire();",
  "    await conn.query('SELECT $1', [id]);",
  "    conn.release();",
  "  }",
  "}",
);

const EARLY_CACHE = lines(
  "async function read(pool, cache) {",
  "  const conn = await pool.acquire();",
  "  if (cache.has('sensors')) return cache.get('sensors');",
  "  const rows = await conn.query('SELECT 1');",
  "  conn.release();",
  "  return rows;",
  "}",
);

const EARLY_SKIP = lines(
  "async function read(pool, skip) {",
  "  const conn = await pool.acquire();",
  "  if (skip) return null;",
  "  const rows = await conn.query('SELECT 1');",
  "  conn.release();",
  "  return rows;",
  "}",
);

const HELPER = lines(
  "async function read(pool) {",
  "  const conn = await pool.acquire();",
  "  return await runReport(conn);",
  "}",
);

const SWALLOWED = lines(
  "async function read(pool, log) {",
  "  const conn = await pool.acquire();",
  "  try {",
  "    await conn.query('SELECT 1');",
  "    conn.release();",
  "  } catch (error) {",
  "    log(error);",
  "  }",
  "}",
);

export const CASES: Case[] = [
  // ── correct: no report ────────────────────────────────────────────────
  {
    name: "try/finally right after the acquire (the good handler)",
    source: lines(
      "async function goodQuery(pool, faults) {",
      "  const conn = await pool.acquire();",
      "  try {",
      "    return await readSensors(conn, faults);",
      "  } finally {",
      "    conn.release();",
      "  }",
      "}",
    ),
    expect: [],
  },
  {
    name: "await using",
    source: lines(
      "async function read(pool) {",
      "  await using conn = await pool.acquire();",
      "  return await conn.query('SELECT 1');",
      "}",
    ),
    expect: [],
  },
  {
    name: "using (TracedPool leases are also Disposable)",
    source: lines(
      "async function read(pool) {",
      "  using conn = await pool.acquire();",
      "  return await conn.query('SELECT 1');",
      "}",
    ),
    expect: [],
  },
  {
    name: "pg: client.release(err) in finally, ROLLBACK in catch",
    source: lines(
      "async function transfer(pool) {",
      "  const client = await pool.connect();",
      "  let failure;",
      "  try {",
      "    await client.query('BEGIN');",
      "    await client.query('UPDATE accounts SET balance = balance - 1');",
      "    await client.query('COMMIT');",
      "  } catch (error) {",
      "    failure = error;",
      "    await client.query('ROLLBACK');",
      "    throw error;",
      "  } finally {",
      "    client.release(failure);",
      "  }",
      "}",
    ),
    expect: [],
  },
  {
    name: "alias released in finally",
    source: lines(
      "async function read(pool) {",
      "  const conn = await pool.acquire();",
      "  try {",
      "    const c = conn;",
      "    return await c.query('SELECT 1');",
      "  } finally {",
      "    const c = conn;",
      "    c.release();",
      "  }",
      "}",
    ),
    expect: [],
  },
  {
    name: "optional chaining in finally: conn?.release()",
    source: lines(
      "async function read(pool) {",
      "  const conn = await pool.acquire();",
      "  try {",
      "    return await conn.query('SELECT 1');",
      "  } finally {",
      "    conn?.release();",
      "  }",
      "}",
    ),
    expect: [],
  },
  {
    name: "acquired inside the try, released in its finally (let conn; conn?.release())",
    source: lines(
      "async function read(pool) {",
      "  let conn;",
      "  try {",
      "    conn = await pool.acquire();",
      "    return await conn.query('SELECT 1');",
      "  } finally {",
      "    conn?.release();",
      "  }",
      "}",
    ),
    expect: [],
  },
  {
    name: "one lease per loop iteration, each in its own try/finally",
    source: lines(
      "async function each(pool, ids) {",
      "  for (const id of ids) {",
      "    const conn = await pool.acquire();",
      "    try {",
      "      if (!id) continue;",
      "      await conn.query('SELECT $1', [id]);",
      "    } finally {",
      "      conn.release();",
      "    }",
      "  }",
      "}",
    ),
    expect: [],
  },
  {
    name: "nested function: the acquire inside pool.scope's callback",
    source: lines(
      "function handler(pool) {",
      "  return pool.scope('read', async () => {",
      "    const conn = await pool.acquire();",
      "    try {",
      "      return await conn.query('SELECT 1');",
      "    } finally {",
      "      conn.release();",
      "    }",
      "  });",
      "}",
    ),
    expect: [],
  },
  {
    name: "early return inside the try: finally still runs",
    source: lines(
      "async function read(pool, cached) {",
      "  const conn = await pool.acquire();",
      "  try {",
      "    if (cached) return cached;",
      "    return await conn.query('SELECT 1');",
      "  } finally {",
      "    conn.release();",
      "  }",
      "}",
    ),
    expect: [],
  },
  {
    name: "a non-throwing declaration between the acquire and the try",
    source: lines(
      "async function read(pool) {",
      "  const conn = await pool.acquire();",
      "  let attempts = 0;",
      "  try {",
      "    attempts++;",
      "    return await conn.query('SELECT 1');",
      "  } finally {",
      "    conn.release();",
      "  }",
      "}",
    ),
    expect: [],
  },
  {
    name: "finally: `if (conn) conn.release()` and a release helper both count",
    source: lines(
      "async function read(pool, other) {",
      "  const conn = await pool.acquire();",
      "  try {",
      "    return await conn.query('SELECT 1');",
      "  } finally {",
      "    if (conn) conn.release();",
      "  }",
      "}",
      "async function readQuietly(pool) {",
      "  const conn = await pool.acquire();",
      "  try {",
      "    return await conn.query('SELECT 1');",
      "  } finally {",
      "    releaseQuietly(conn);",
      "  }",
      "}",
    ),
    expect: [],
  },
  {
    name: "finally disposes it: await conn[Symbol.asyncDispose]()",
    source: lines(
      "async function read(pool) {",
      "  const conn = await pool.acquire();",
      "  try {",
      "    return await conn.query('SELECT 1');",
      "  } finally {",
      "    await conn[Symbol.asyncDispose]();",
      "  }",
      "}",
    ),
    expect: [],
  },
  {
    name: "the lease handed to the caller (returned) is the caller's to release",
    source: lines(
      "async function checkout(pool) {",
      "  const conn = await pool.acquire();",
      "  await conn.query(\"SET application_name = 'report'\");",
      "  return conn;",
      "}",
    ),
    expect: [],
  },
  {
    name: "released at once: (await pool.acquire()).release()",
    source: lines(
      "async function warm(pool) {",
      "  (await pool.acquire()).release();",
      "}",
    ),
    expect: [],
  },
  {
    name: "not a pool: pg's `await client.connect()` and `connect(url)` with arguments",
    source: lines(
      "async function open(client, amqp, url) {",
      "  await client.connect();",
      "  const channel = await amqp.connect(url);",
      "  return channel;",
      "}",
    ),
    expect: [],
  },
  {
    name: "return await inside await using's block",
    source: lines(
      "async function listSensors(pool, faults) {",
      "  await using conn = await pool.acquire();",
      "  return await readSensors(conn, faults);",
      "}",
    ),
    expect: [],
  },
  {
    name: "two leases, each with its own await using (the step 4 solution)",
    source: lines(
      "async function report(primary, replica, faults) {",
      "  await using conn = await primary.acquire();",
      "  await using replicaConn = await replica.acquire();",
      "  const readings = await readSensors(conn, faults);",
      "  const { rows } = await replicaConn.query('SELECT count(*)::int AS total FROM sensors');",
      "  return { readings, total: rows[0].total };",
      "}",
    ),
    expect: [],
  },

  {
    name: "released before an early return that comes before the try",
    source: lines(
      "async function read(pool, id) {",
      "  const conn = await pool.acquire();",
      "  if (!id) {",
      "    conn.release();",
      "    return [];",
      "  }",
      "  try {",
      "    return await conn.query('SELECT $1', [id]);",
      "  } finally {",
      "    conn.release();",
      "  }",
      "}",
    ),
    expect: [],
  },
  {
    name: "a class method on this.pool",
    source: lines(
      "class SensorStore {",
      "  constructor(pool) {",
      "    this.pool = pool;",
      "  }",
      "  async latest() {",
      "    const conn = await this.pool.acquire();",
      "    try {",
      "      return await conn.query('SELECT 1');",
      "    } finally {",
      "      conn.release();",
      "    }",
      "  }",
      "}",
    ),
    expect: [],
  },
  {
    name: "ownership handed to a wrapper with `new` (TracedPool's own acquire() over pg)",
    source: lines(
      "class Pool {",
      "  async acquire() {",
      "    let client;",
      "    try {",
      "      client = await this.pg.connect();",
      "    } catch (error) {",
      "      throw new ConnectError(error);",
      "    }",
      "    return new Lease(client, performance.now());",
      "  }",
      "}",
    ),
    expect: [],
  },
  {
    name: "a helper named for releasing, given the lease at once",
    source: lines(
      "async function read(pool) {",
      "  const conn = await pool.acquire();",
      "  return releaseAfter(conn, (c) => c.query('SELECT 1'));",
      "}",
    ),
    expect: [],
  },
  {
    name: "acquired in a for loop's init, released in its body",
    source: lines(
      "async function drain(pool, queue) {",
      "  for (let conn = await pool.acquire(); queue.length > 0;) {",
      "    try {",
      "      await conn.query(queue.shift());",
      "    } finally {",
      "      conn.release();",
      "    }",
      "    break;",
      "  }",
      "}",
    ),
    expect: [],
  },
  {
    name: "limit: a `.then` chain on the acquire is not followed",
    source: lines(
      "function read(pool) {",
      "  return pool.acquire().then((conn) => conn.query('SELECT 1'));",
      "}",
    ),
    expect: [],
  },
  {
    name: "limit: an acquire awaited later, through a variable, is not followed",
    source: lines(
      "async function read(pool) {",
      "  const pending = pool.acquire();",
      "  const conn = await pending;",
      "  return await conn.query('SELECT 1');",
      "}",
    ),
    expect: [],
  },

  // ── leaking: one diagnostic each ───────────────────────────────────────
  {
    name: "no release at all",
    source: NEVER,
    expect: [{
      line: 2,
      covers: "await pool.acquire()",
      message: "`conn` from `pool.acquire()` is never released: every path leaks the connection.",
      hint: usingHint("conn"),
      fixed: USING,
    }],
  },
  {
    name: "a helper that is not named for releasing does not count as a release",
    source: HELPER,
    expect: [{
      line: 2,
      covers: "await pool.acquire()",
      message: "`conn` from `pool.acquire()` is never released: every path leaks the connection.",
      hint: usingHint("conn"),
      fixed: USING,
    }],
  },
  {
    name: "release only in catch",
    source: ONLY_CATCH,
    expect: [{
      line: 2,
      covers: "await pool.acquire()",
      message:
        "`conn` is released only in `catch` (line 6): when the `try` block succeeds, the connection is never returned.",
      hint: "Move `conn.release()` from `catch` to `finally`, or declare `await using conn = await pool.acquire();`.",
      fixed: USING,
    }],
  },
  {
    name: "release only on the success path (the original bad handler)",
    source: BAD_HANDLER,
    expect: [{
      line: 2,
      covers: "await pool.acquire()",
      message: "`conn` is released only on the success path: if `await readSensors(conn, faults)` (line 3) throws, " +
        "`conn.release()` (line 4) is never reached and the connection leaks.",
      hint: usingHint("conn"),
      fixed: USING,
    }],
  },
  {
    name: "finally releases only inside a callback that may never run",
    source: lines(
      "async function read(pool) {",
      "  const conn = await pool.acquire();",
      "  try {",
      "    return await conn.query('SELECT 1');",
      "  } finally {",
      "    setTimeout(() => conn.release(), 100);",
      "  }",
      "}",
    ),
    expect: [{
      line: 2,
      covers: "await pool.acquire()",
      message: "`finally` releases `conn` only inside a callback (`conn.release()`, line 6), which may run late or " +
        "never: until it does, the connection is out of the pool.",
      hint: "Call `conn.release()` directly in `finally`, not inside a callback.",
    }],
  },
  {
    name: "drizzle's BEGIN before the try (pg: not disposable; the move into the try is offered)",
    source: lines(
      "async function transaction(pool, work) {",
      "  const client = await pool.connect();",
      "  await client.query('BEGIN');",
      "  try {",
      "    const result = await work(client);",
      "    await client.query('COMMIT');",
      "    return result;",
      "  } catch (error) {",
      "    await client.query('ROLLBACK');",
      "    throw error;",
      "  } finally {",
      "    client.release();",
      "  }",
      "}",
    ),
    expect: [{
      line: 2,
      covers: "await pool.connect()",
      message: "`await client.query('BEGIN')` (line 3) runs after `pool.connect()` but before the `try` whose " +
        "`finally` releases `client`: if it throws, that `finally` never runs and the connection leaks.",
      hint: beforeTryHint(3, "client", "pool.connect()"),
      fixed: lines(
        "async function transaction(pool, work) {",
        "  const client = await pool.connect();",
        "  try {",
        "    await client.query('BEGIN');",
        "    const result = await work(client);",
        "    await client.query('COMMIT');",
        "    return result;",
        "  } catch (error) {",
        "    await client.query('ROLLBACK');",
        "    throw error;",
        "  } finally {",
        "    client.release();",
        "  }",
        "}",
      ),
    }],
  },
  {
    name: "a `new` between the acquire and the try",
    source: lines(
      "async function read(pool, sql) {",
      "  const conn = await pool.acquire();",
      "  const statement = new PreparedStatement(sql);",
      "  try {",
      "    return await conn.query(statement.text);",
      "  } finally {",
      "    conn.release();",
      "  }",
      "}",
    ),
    expect: [{
      line: 2,
      covers: "await pool.acquire()",
      message: "`new PreparedStatement(sql)` (line 3) runs after `pool.acquire()` but before the `try` whose " +
        "`finally` releases `conn`: if it throws, that `finally` never runs and the connection leaks.",
      hint: beforeTryHint(3, "conn"),
      fixed: USING,
    }],
  },
  {
    name: "a `throw` between the acquire and the try",
    source: lines(
      "async function read(pool, id) {",
      "  const conn = await pool.acquire();",
      "  if (id < 0) throw new RangeError('id must not be negative');",
      "  try {",
      "    return await conn.query('SELECT $1', [id]);",
      "  } finally {",
      "    conn.release();",
      "  }",
      "}",
    ),
    expect: [{
      line: 2,
      covers: "await pool.acquire()",
      message: "`throw new RangeError('id must not be negative')` (line 3) runs after `pool.acquire()` but before " +
        "the `try` whose `finally` releases `conn`: if it throws, that `finally` never runs and the connection leaks.",
      hint: beforeTryHint(3, "conn"),
      fixed: USING,
    }],
  },
  {
    name: "a second acquire before the try (the step 4 starter)",
    source: lines(
      "async function report(primary, replica, faults) {",
      "  const conn = await primary.acquire();",
      "  const replicaConn = await replica.acquire();",
      "  try {",
      "    return [await readSensors(conn, faults), await replicaConn.query('SELECT 1')];",
      "  } finally {",
      "    replicaConn.release();",
      "    conn.release();",
      "  }",
      "}",
    ),
    expect: [{
      line: 2,
      covers: "await primary.acquire()",
      message: "`await replica.acquire()` (line 3) takes another connection after `primary.acquire()` but before " +
        "the `try` whose `finally` releases `conn`: when it throws (an exhausted pool does), that `finally` never " +
        "runs and `conn` leaks.",
      hint: "Give each connection its own cleanup from the moment it exists: " +
        "`await using conn = await primary.acquire();` and `await using` for the next one too.",
      fixed: lines(
        "async function report(primary, replica, faults) {",
        "  await using conn = await primary.acquire();",
        "  const replicaConn = await replica.acquire();",
        "  try {",
        "    return [await readSensors(conn, faults), await replicaConn.query('SELECT 1')];",
        "  } finally {",
        "    replicaConn.release();",
        "    conn.release();",
        "  }",
        "}",
      ),
    }],
  },
  {
    name: "an early return before the try",
    source: lines(
      "async function read(pool, id) {",
      "  const conn = await pool.acquire();",
      "  if (!id) return [];",
      "  try {",
      "    return await conn.query('SELECT $1', [id]);",
      "  } finally {",
      "    conn.release();",
      "  }",
      "}",
    ),
    expect: [{
      line: 2,
      covers: "await pool.acquire()",
      message: "`return []` (line 3) leaves after `pool.acquire()` but before the `try` whose `finally` releases " +
        "`conn`: the connection leaks on that path.",
      hint: beforeTryHint(3, "conn"),
      fixed: USING,
    }],
  },
  {
    name: "a `break` before the try, in a loop",
    source: lines(
      "async function each(pool, ids) {",
      "  for (const id of ids) {",
      "    const conn = await pool.acquire();",
      "    if (id === 'stop') break;",
      "    try {",
      "      await conn.query('SELECT $1', [id]);",
      "    } finally {",
      "      conn.release();",
      "    }",
      "  }",
      "}",
    ),
    expect: [{
      line: 3,
      covers: "await pool.acquire()",
      message: "`break` (line 4) leaves after `pool.acquire()` but before the `try` whose `finally` releases " +
        "`conn`: the connection leaks on that path.",
      hint: beforeTryHint(4, "conn"),
      fixed: USING,
    }],
  },
  {
    name: "an un-awaited return inside try/finally (step 3's trap)",
    source: UNAWAITED,
    expect: [{
      line: 4,
      covers: "readSensors(conn, faults)",
      message: "`return readSensors(conn, faults)` (line 4) hands back a promise that still uses `conn`, but " +
        "`conn` is released as soon as the `return` runs: the query runs on a connection already given back.",
      hint: "Await it before the release: `return await readSensors(conn, faults);`.",
      fixed: UNAWAITED.replace("return readSensors", "return await readSensors"),
    }],
  },
  {
    name: "an un-awaited return in await using's block",
    source: lines(
      "async function read(pool) {",
      "  await using conn = await pool.acquire();",
      "  return conn.query('SELECT 1');",
      "}",
    ),
    expect: [{
      line: 3,
      covers: "conn.query('SELECT 1')",
      message: "`return conn.query('SELECT 1')` (line 3) hands back a promise that still uses `conn`, but `conn` " +
        "is released as soon as the `return` runs: the query runs on a connection already given back.",
      hint: "Await it before the release: `return await conn.query('SELECT 1');`.",
      fixed: lines(
        "async function read(pool) {",
        "  await using conn = await pool.acquire();",
        "  return await conn.query('SELECT 1');",
        "}",
      ),
    }],
  },
  {
    name: "an un-awaited return through an alias",
    source: lines(
      "async function read(pool) {",
      "  const conn = await pool.acquire();",
      "  try {",
      "    const c = conn;",
      "    return c.query('SELECT 1');",
      "  } finally {",
      "    conn.release();",
      "  }",
      "}",
    ),
    expect: [{
      line: 5,
      covers: "c.query('SELECT 1')",
      message: "`return c.query('SELECT 1')` (line 5) hands back a promise that still uses `conn`, but `conn` is " +
        "released as soon as the `return` runs: the query runs on a connection already given back.",
      hint: "Await it before the release: `return await c.query('SELECT 1');`.",
      fixed: lines(
        "async function read(pool) {",
        "  const conn = await pool.acquire();",
        "  try {",
        "    const c = conn;",
        "    return await c.query('SELECT 1');",
        "  } finally {",
        "    conn.release();",
        "  }",
        "}",
      ),
    }],
  },
  {
    name: "the connection thrown away",
    source: lines(
      "async function warm(pool) {",
      "  await pool.acquire();",
      "  (await pool.acquire()).query('SELECT 1');",
      "}",
    ),
    expect: [{
      line: 2,
      covers: "await pool.acquire()",
      message:
        "The connection from `pool.acquire()` is never kept in a name, so nothing can release it: every path leaks it.",
      hint: "Keep it in a name that releases itself: `await using conn = await pool.acquire();`.",
    }, {
      line: 3,
      covers: "await pool.acquire()",
      message:
        "The connection from `pool.acquire()` is never kept in a name, so nothing can release it: every path leaks it.",
      hint: "Keep it in a name that releases itself: `await using conn = await pool.acquire();`.",
    }],
  },
  {
    name: "destructuring loses the connection",
    source: lines(
      "async function read(pool) {",
      "  const { query } = await pool.acquire();",
      "  return await query('SELECT 1');",
      "}",
    ),
    expect: [{
      line: 2,
      covers: "await pool.acquire()",
      message: "The connection from `pool.acquire()` is destructured, so no name holds the connection itself to " +
        "release: every path leaks it.",
      hint: "Bind the connection itself: `await using conn = await pool.acquire();`, then call `conn.query(…)`.",
    }],
  },
  {
    name: "an alias released only on the success path",
    source: ALIAS_SUCCESS,
    expect: [{
      line: 2,
      covers: "await pool.acquire()",
      message: "`conn` is released only on the success path: if `await c.query('SELECT 1')` (line 4) throws, " +
        "`c.release()` (line 5) is never reached and the connection leaks.",
      hint: usingHint("conn"),
      fixed: USING,
    }],
  },
  {
    name: "an early return on the success path",
    source: EARLY_CACHE,
    expect: [{
      line: 2,
      covers: "await pool.acquire()",
      message: "`return cache.get('sensors')` (line 3) leaves before `conn` is released: the connection from " +
        "`pool.acquire()` leaks on that path.",
      hint: usingHint("conn"),
      fixed: USING,
    }],
  },
  {
    name: "a plain early return before the only release",
    source: EARLY_SKIP,
    expect: [{
      line: 2,
      covers: "await pool.acquire()",
      message: "`return null` (line 3) leaves before `conn` is released: the connection from `pool.acquire()` " +
        "leaks on that path.",
      hint: usingHint("conn"),
      fixed: USING,
    }],
  },
  {
    name: "a loop that releases only on success",
    source: LOOP_SUCCESS,
    expect: [{
      line: 3,
      covers: "await pool.acquire()",
      message: "`conn` is released only on the success path: if `await conn.query('SELECT $1', [id])` (line 4) " +
        "throws, `conn.release()` (line 5) is never reached and the connection leaks.",
      hint: usingHint("conn"),
      fixed: USING,
    }],
  },
  {
    name: "an awaited .finally(() => conn.release()) right after the acquire",
    source: lines(
      "async function read(pool, faults) {",
      "  const conn = await pool.acquire();",
      "  return await readSensors(conn, faults).finally(() => conn.release());",
      "}",
    ),
    expect: [],
  },
  {
    name: "const rows = await conn.query(…).finally(() => { conn.release(); })",
    source: lines(
      "async function read(pool) {",
      "  const conn = await pool.acquire();",
      "  const rows = await conn.query('SELECT 1').finally(() => {",
      "    conn.release();",
      "  });",
      "  return rows;",
      "}",
    ),
    expect: [],
  },
  {
    name: "an awaited .finally chain as the first argument: sensorIds(await conn.query(…).finally(…))",
    source: lines(
      "async function hot(pool) {",
      "  const conn = await pool.acquire();",
      "  return sensorIds(await conn.query('SELECT 1').finally(() => conn.release()));",
      "}",
      "async function rows(pool) {",
      "  const conn = await pool.acquire();",
      "  return (await conn.query('SELECT 1').finally(() => conn.release())).rows;",
      "}",
    ),
    expect: [],
  },
  {
    name: "an awaited .finally chain as a later argument: the first may throw before it",
    source: lines(
      "async function hot(pool) {",
      "  const conn = await pool.acquire();",
      "  return pick(parse(), await conn.query('SELECT 1').finally(() => conn.release()));",
      "}",
    ),
    expect: [{
      line: 2,
      covers: "await pool.acquire()",
      message: "`conn` is released only inside a callback (`conn.release()`, line 3), which may run late or never: " +
        "until it does, the connection is out of the pool.",
      hint: usingHint("conn"),
    }],
  },
  {
    name: "a returned .finally chain: the caller waits for the release",
    source: lines(
      "function read(pool) {",
      "  return pool.connect().then(async (client) => {",
      "    const c = client;",
      "    return c.query('SELECT 1');",
      "  });",
      "}",
      "async function readAgain(pool) {",
      "  const conn = await pool.acquire();",
      "  return conn.query('SELECT 1').finally(() => conn.release());",
      "}",
    ),
    expect: [],
  },
  {
    name: "a detached .finally chain: the request goes on without it",
    source: lines(
      "async function read(pool) {",
      "  const conn = await pool.acquire();",
      "  conn.query('SELECT 1').finally(() => conn.release());",
      "  return 1;",
      "}",
    ),
    expect: [{
      line: 2,
      covers: "await pool.acquire()",
      message: "`conn` is released only inside a callback (`conn.release()`, line 3), which may run late or never: " +
        "until it does, the connection is out of the pool.",
      hint: usingHint("conn"),
    }],
  },
  {
    name: "an awaited .finally after a statement that can throw first",
    source: lines(
      "async function read(pool) {",
      "  const conn = await pool.acquire();",
      "  await conn.query('BEGIN');",
      "  return await conn.query('SELECT 1').finally(() => conn.release());",
      "}",
    ),
    expect: [{
      line: 2,
      covers: "await pool.acquire()",
      message: "`conn` is released only inside a callback (`conn.release()`, line 4), which may run late or never: " +
        "until it does, the connection is out of the pool.",
      hint: usingHint("conn"),
    }],
  },
  {
    name: "a .finally callback that releases only on some branches",
    source: lines(
      "async function read(pool, keep) {",
      "  const conn = await pool.acquire();",
      "  return await conn.query('SELECT 1').finally(() => {",
      "    if (!keep) conn.release();",
      "  });",
      "}",
    ),
    expect: [{
      line: 2,
      covers: "await pool.acquire()",
      message: "`conn` is released only inside a callback (`conn.release()`, line 4), which may run late or never: " +
        "until it does, the connection is out of the pool.",
      hint: usingHint("conn"),
    }],
  },
  {
    name: "released only in a .then callback (nested function)",
    source: lines(
      "async function read(pool) {",
      "  const conn = await pool.acquire();",
      "  return conn.query('SELECT 1').then((result) => {",
      "    conn.release();",
      "    return result.rows;",
      "  });",
      "}",
    ),
    expect: [{
      line: 2,
      covers: "await pool.acquire()",
      message: "`conn` is released only inside a callback (`conn.release()`, line 4), which may run late or never: " +
        "until it does, the connection is out of the pool.",
      hint: usingHint("conn"),
    }],
  },
  {
    name: "optional chaining on the success path only",
    source: lines(
      "async function read(pool) {",
      "  const conn = await pool.acquire();",
      "  const rows = await conn.query('SELECT 1');",
      "  conn?.release();",
      "  return rows;",
      "}",
    ),
    expect: [{
      line: 2,
      covers: "await pool.acquire()",
      message: "`conn` is released only on the success path: if `await conn.query('SELECT 1')` (line 3) throws, " +
        "`conn?.release()` (line 4) is never reached and the connection leaks.",
      hint: usingHint("conn"),
      fixed: USING,
    }],
  },
  {
    name: "released in try and again in catch instead of finally",
    source: lines(
      "async function read(pool) {",
      "  const conn = await pool.acquire();",
      "  try {",
      "    const rows = await conn.query('SELECT 1');",
      "    conn.release();",
      "    return rows;",
      "  } catch (error) {",
      "    conn.release();",
      "    throw error;",
      "  }",
      "}",
    ),
    expect: [{
      line: 2,
      covers: "await pool.acquire()",
      message: "`conn` is released separately in `try` and in `catch`, not in `finally`: a path that leaves the " +
        "`try` before `conn.release()` (an early `return` or `break`, a throw inside `catch`) leaks it.",
      hint: "Release it once, in `finally`, or declare `await using conn = await pool.acquire();`.",
      fixed: USING,
    }],
  },
  {
    name: "released at the end of a try whose catch swallows the error",
    source: SWALLOWED,
    expect: [{
      line: 2,
      covers: "await pool.acquire()",
      message: "`conn` is released only on the success path: if `await conn.query('SELECT 1')` (line 4) throws, " +
        "`conn.release()` (line 5) is never reached and the connection leaks.",
      hint: usingHint("conn"),
      fixed: USING,
    }],
  },
  {
    name: "a try/finally nested in a branch, and a release on the other branch",
    source: lines(
      "async function read(pool, fresh) {",
      "  const conn = await pool.acquire();",
      "  if (fresh) {",
      "    try {",
      "      return await conn.query('SELECT 1');",
      "    } finally {",
      "      conn.release();",
      "    }",
      "  } else {",
      "    conn.release();",
      "  }",
      "}",
    ),
    expect: [],
  },
  {
    name: "released on one branch only",
    source: lines(
      "async function maybe(pool, done) {",
      "  const conn = await pool.acquire();",
      "  if (done) conn.release();",
      "}",
    ),
    expect: [{
      line: 2,
      covers: "await pool.acquire()",
      message: "`conn` is released only on some branches (`conn.release()`, line 3): on the others the connection " +
        "leaks.",
      hint: usingHint("conn"),
      fixed: USING,
    }],
  },
  {
    name: "finally releases only on some branches",
    source: CONDITIONAL_FINALLY,
    expect: [{
      line: 2,
      covers: "await pool.acquire()",
      message: "`finally` releases `conn` only on some branches (`conn.release()`, line 6): on the others the " +
        "connection leaks.",
      hint: "Release `conn` unconditionally in `finally`.",
      fixed: USING,
    }],
  },
  {
    name: "pg: release only on the success path (not disposable; the try/finally wrap is offered)",
    source: lines(
      "async function read(pool) {",
      "  const client = await pool.connect();",
      "  const { rows } = await client.query('SELECT 1');",
      "  client.release();",
      "  return rows;",
      "}",
    ),
    expect: [{
      line: 2,
      covers: "await pool.connect()",
      message: "`client` is released only on the success path: if `await client.query('SELECT 1')` (line 3) " +
        "throws, `client.release()` (line 4) is never reached and the connection leaks.",
      hint: usingHint("client", "pool.connect()"),
      fixed: lines(
        "async function read(pool) {",
        "  const client = await pool.connect();",
        "  try {",
        "    const { rows } = await client.query('SELECT 1');",
        "    return rows;",
        "  } finally {",
        "    client.release();",
        "  }",
        "}",
      ),
    }],
  },
  {
    name: "no `await using` when the lease escapes into an object (the try/finally wrap is offered)",
    source: lines(
      "async function open(pool) {",
      "  const conn = await pool.acquire();",
      "  const session = { conn, startedAt: Date.now() };",
      "  await conn.query('SELECT 1');",
      "  conn.release();",
      "  return session;",
      "}",
    ),
    expect: [{
      line: 2,
      covers: "await pool.acquire()",
      message: "`conn` is released only on the success path: if `Date.now()` (line 3) throws, `conn.release()` " +
        "(line 5) is never reached and the connection leaks.",
      hint: usingHint("conn"),
      fixed: lines(
        "async function open(pool) {",
        "  const conn = await pool.acquire();",
        "  try {",
        "    const session = { conn, startedAt: Date.now() };",
        "    await conn.query('SELECT 1');",
        "    return session;",
        "  } finally {",
        "    conn.release();",
        "  }",
        "}",
      ),
    }],
  },
  {
    name: "no fix for a reassigned `let` or a `var`",
    source: lines(
      "async function read(pool) {",
      "  let conn = await pool.acquire();",
      "  await conn.query('SELECT 1');",
      "  conn = undefined;",
      "}",
      "async function readVar(pool) {",
      "  var conn = await pool.acquire();",
      "  await conn.query('SELECT 1');",
      "}",
    ),
    expect: [{
      line: 2,
      covers: "await pool.acquire()",
      message: "`conn` from `pool.acquire()` is never released: every path leaks the connection.",
      hint: usingHint("conn"),
    }, {
      line: 7,
      covers: "await pool.acquire()",
      message: "`conn` from `pool.acquire()` is never released: every path leaks the connection.",
      hint: usingHint("conn"),
    }],
  },
  {
    name: "a TypeScript cast around the acquire, in a never-reassigned `let`",
    source: lines(
      "async function read(pool: Pool) {",
      "  let conn = (await pool.acquire()) as Lease;",
      "  await conn.query('SELECT 1');",
      "}",
    ),
    expect: [{
      line: 2,
      covers: "await pool.acquire()",
      message: "`conn` from `pool.acquire()` is never released: every path leaks the connection.",
      hint: usingHint("conn"),
      fixed: lines(
        "async function read(pool: Pool) {",
        "  await using conn = (await pool.acquire()) as Lease;",
        "  await conn.query('SELECT 1');",
        "}",
      ),
    }],
  },
  {
    name: "module top level: reported, no `await using` (the try/finally wrap is offered)",
    source: lines(
      "const conn = await pool.acquire();",
      "await conn.query('SELECT 1');",
      "conn.release();",
    ),
    expect: [{
      line: 1,
      covers: "await pool.acquire()",
      message: "`conn` is released only on the success path: if `await conn.query('SELECT 1')` (line 2) throws, " +
        "`conn.release()` (line 3) is never reached and the connection leaks.",
      hint: usingHint("conn"),
      fixed: lines(
        "const conn = await pool.acquire();",
        "try {",
        "  await conn.query('SELECT 1');",
        "} finally {",
        "  conn.release();",
        "}",
      ),
    }],
  },
  // Shapes learned from real code (lint/eval/real_code.json) and the peer's suite (README, lint rule).
  {
    name: "pg-promise: the connection released with done()",
    source: lines(
      "async function version(db) {",
      "  const c = await db.connect();",
      "  c.done();",
      "  return c.client.serverVersion;",
      "}",
    ),
    expect: [],
  },
  {
    name: "this.connect(): an object connecting itself (a query runner) is not a checkout",
    source: lines(
      "class Runner {",
      "  async query(sql) {",
      "    const connection = await this.connect();",
      "    return await connection.query(sql);",
      "  }",
      "}",
    ),
    expect: [],
  },
  {
    name: "not a pool: a broker's connect(), never released nor queried",
    source: lines(
      "async function publish(broker, message) {",
      "  const channel = await broker.connect();",
      "  channel.publish('events', message);",
      "}",
    ),
    expect: [],
  },
  {
    name: "a pool not named pool (drizzle-kit's `client`) is one when its result is released",
    source: lines(
      "async function run(client, sql) {",
      "  const tx = await client.connect();",
      "  await tx.query(sql);",
      "  tx.release();",
      "}",
    ),
    expect: [{
      line: 2,
      covers: "await client.connect()",
      message:
        "`tx` is released only on the success path: if `await tx.query(sql)` (line 3) throws, `tx.release()` (line 4) is never reached and the connection leaks.",
      hint:
        "Start `try { … } finally { tx.release(); }` on the line right after the acquire (pg's clients are not disposable: no `await using`).",
      fixed: lines(
        "async function run(client, sql) {",
        "  const tx = await client.connect();",
        "  try {",
        "    await tx.query(sql);",
        "  } finally {",
        "    tx.release();",
        "  }",
        "}",
      ),
    }],
  },
  {
    name: "finally releases through a call's argument: await Promise.resolve(client.release())",
    source: lines(
      "async function withClient(pool, callback) {",
      "  const client = await pool.connect();",
      "  try {",
      "    return await callback(client);",
      "  } finally {",
      "    await Promise.resolve(client.release());",
      "  }",
      "}",
    ),
    expect: [],
  },
  {
    name: "a .catch()-ed query and a listener before the try do not throw",
    source: lines(
      "async function withClient(pool, callback, logError) {",
      "  const client = await pool.connect();",
      "  client.on('error', logError);",
      "  client.query('SET jit = off').catch(logError);",
      "  try {",
      "    return await callback(client);",
      "  } finally {",
      "    client.release();",
      "  }",
      "}",
    ),
    expect: [],
  },
  {
    name: "if (!client) return: nothing was taken on that path",
    source: lines(
      "async function check(pool, retry) {",
      "  let client;",
      "  if (retry) {",
      "    try {",
      "      client = await pool.connect();",
      "    } catch {",
      "      return;",
      "    }",
      "  } else {",
      "    client = await pool.connect();",
      "  }",
      "  if (!client) return;",
      "  client.on('error', () => {});",
      "  client.release();",
      "}",
    ),
    expect: [],
  },
  {
    name: "a LISTEN client: released in catch if setting it up fails, handed on when it succeeds",
    source: lines(
      "class Subscriber {",
      "  async listen(channel) {",
      "    const client = await this.pool.connect();",
      "    try {",
      "      await client.query(`LISTEN ${channel}`);",
      "      this.client = client;",
      "      return client;",
      "    } catch (error) {",
      "      client.release();",
      "      throw error;",
      "    }",
      "  }",
      "}",
    ),
    expect: [],
  },
  {
    name: "module scope: the one connection a small server keeps for its lifetime",
    source: lines(
      "const db = await pool.connect();",
      "export async function items() {",
      "  return (await db.query('SELECT * FROM items')).rows;",
      "}",
    ),
    expect: [],
  },
  {
    name: "a destructured release, called in finally",
    source: lines(
      "async function read(pool) {",
      "  const { release, query } = await pool.connect();",
      "  try {",
      "    return await query('SELECT 1');",
      "  } finally {",
      "    release();",
      "  }",
      "}",
    ),
    expect: [],
  },
  {
    name: "a destructured release on the success path only",
    source: lines(
      "async function read(pool) {",
      "  const { release, query } = await pool.connect();",
      "  const rows = await query('SELECT 1');",
      "  release();",
      "  return rows;",
      "}",
    ),
    expect: [{
      line: 2,
      covers: "await pool.connect()",
      message:
        "`{ release }` is released only on the success path: if `await query('SELECT 1')` (line 3) throws, `release()` (line 4) is never reached and the connection leaks.",
      hint:
        "Start `try { … } finally { release(); }` on the line right after the acquire (pg's clients are not disposable: no `await using`).",
      fixed: lines(
        "async function read(pool) {",
        "  const { release, query } = await pool.connect();",
        "  try {",
        "    const rows = await query('SELECT 1');",
        "    return rows;",
        "  } finally {",
        "    release();",
        "  }",
        "}",
      ),
    }],
  },
  {
    name: "assigned to a let declared earlier, never released",
    source: lines(
      "async function read(pool) {",
      "  let client;",
      "  client = await pool.connect();",
      "  return (await client.query('SELECT 1')).rows;",
      "}",
    ),
    expect: [{
      line: 3,
      covers: "await pool.connect()",
      message: "`client` from `pool.connect()` is never released: every path leaks the connection.",
      hint:
        "Start `try { … } finally { client.release(); }` on the line right after the acquire (pg's clients are not disposable: no `await using`).",
    }],
  },
  {
    name: "the culprit is the BEGIN, not the constructor before it (netlify-db's transaction)",
    source: lines(
      "async function transaction(pool, work) {",
      "  const client = await pool.connect();",
      "  const session = new Session(client);",
      "  await session.execute('BEGIN');",
      "  try {",
      "    return await work(session);",
      "  } finally {",
      "    client.release();",
      "  }",
      "}",
    ),
    expect: [{
      line: 2,
      covers: "await pool.connect()",
      message:
        "`await session.execute('BEGIN')` (line 4) runs after `pool.connect()` but before the `try` whose `finally` releases `client`: if it throws, that `finally` never runs and the connection leaks.",
      hint: "Start the `try` on the line right after the acquire (move line 4 inside it).",
      fixed: lines(
        "async function transaction(pool, work) {",
        "  const client = await pool.connect();",
        "  try {",
        "    const session = new Session(client);",
        "    await session.execute('BEGIN');",
        "    return await work(session);",
        "  } finally {",
        "    client.release();",
        "  }",
        "}",
      ),
    }],
  },
];
