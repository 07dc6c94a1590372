import {
  assert,
  assertEquals,
  assertInstanceOf,
  assertNotMatch,
  assertRejects,
  assertStringIncludes,
} from "@std/assert";
import pg from "pg";
import { checkConnection, DatabaseConnectionError, openDatabase } from "../lib/database.ts";
import { EmbeddedPostgresError, startEmbeddedPostgres } from "../lib/database/embedded_postgres.ts";
import { redactUrl } from "../lib/util/redact.ts";
import { ensureSchema, SEEDED_READINGS } from "../lib/database/schema.ts";
import { TracedPool } from "../lib/pool.ts";
import { checkpointDatabaseUrl } from "../lib/workshop/checkpoint_database.ts";
import { requirement } from "./support/requirement.ts";

/** The machine-local server from the brief (trust auth, database "test"); override with LOCAL_POSTGRES_URL. */
const LOCAL_URL = Deno.env.get("LOCAL_POSTGRES_URL") ?? "postgres://root@127.0.0.1:5432/test";
const localReachable = await checkConnection(LOCAL_URL, 2_000).then(() => true, () => false);

async function count(url: string, sql: string): Promise<number> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return Number((await client.query(sql)).rows[0].count);
  } finally {
    await client.end();
  }
}

Deno.test({
  name: "openDatabase() uses DATABASE_URL (the local server on 127.0.0.1:5432) and creates the schema",
  ...requirement(
    `A Postgres at ${redactUrl(LOCAL_URL)}`,
    localReachable,
    "start one, or point LOCAL_POSTGRES_URL at a server you can write to",
  ),
  async fn() {
    const db = await openDatabase({ url: LOCAL_URL });
    assertEquals(db.source, "DATABASE_URL");
    assertEquals(db.displayUrl, redactUrl(LOCAL_URL));
    assertEquals(await count(db.url, "SELECT count(*) FROM sensors"), SEEDED_READINGS);
    // The whole leak round trip works on this path too.
    const pool = new TracedPool({ connectionString: db.url, name: "db-test-local", log: () => {} });
    await pool.scope("leaks", () => pool.acquire());
    assertEquals(pool.stats().leaked, 1);
    await pool.end();
    await db.stop();
  },
});

Deno.test("openDatabase() without a URL starts an embedded PostgreSQL and stop() removes it", async () => {
  const previous = Deno.env.get("DATABASE_URL");
  Deno.env.delete("DATABASE_URL");
  try {
    const db = await openDatabase();
    assertEquals(db.source, "embedded");
    assertNotMatch(db.displayUrl, new RegExp(new URL(db.url).password));
    assertStringIncludes(db.displayUrl, ":***@127.0.0.1:");
    assertEquals(await count(db.url, "SELECT count(*) FROM sensors"), SEEDED_READINGS);
    const version = await new pg.Client({ connectionString: db.url });
    await version.connect();
    assertStringIncludes((await version.query("SELECT version()")).rows[0].version, "PostgreSQL");
    await version.end();
    await db.stop();
    await assertRejects(() => checkConnection(db.url, 1_000), DatabaseConnectionError, "Cannot reach Postgres");
  } finally {
    if (previous) Deno.env.set("DATABASE_URL", previous);
  }
});

Deno.test("startEmbeddedPostgres() removes data directories left behind by crashed runs", async () => {
  const tmp = Deno.env.get("TMPDIR") ?? "/tmp";
  const abandoned = await Deno.makeTempDir({ prefix: "leak-lab-pg-" });
  const crashed = await Deno.makeTempDir({ prefix: "leak-lab-pg-" });
  await Deno.writeTextFile(`${crashed}/postmaster.pid`, "999999999\n/data\n"); // a pid no process has
  const old = new Date(Date.now() - 60 * 60 * 1000);
  await Deno.utime(abandoned, old, old);
  const server = await startEmbeddedPostgres();
  try {
    const left = [...Deno.readDirSync(tmp)].map((e) => `${tmp}/${e.name}`);
    assert(!left.includes(abandoned), "an old directory that never got a server is removed");
    assert(!left.includes(crashed), "a directory whose server is gone is removed");
    assert(left.includes(server.dataDir), "the running server's directory stays");
  } finally {
    await server.stop();
  }
  assert(![...Deno.readDirSync(tmp)].some((e) => `${tmp}/${e.name}` === server.dataDir), "stop() deletes its data");
});

Deno.test("startEmbeddedPostgres() reports a port it cannot use with EmbeddedPostgresError and the server's log", async () => {
  const busy = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  try {
    const error = await assertRejects(
      () => startEmbeddedPostgres({ port: (busy.addr as Deno.NetAddr).port }),
      EmbeddedPostgresError,
      "The embedded PostgreSQL did not start on port",
    );
    assertStringIncludes(error.message, "Set DATABASE_URL");
  } finally {
    busy.close();
  }
});

Deno.test("checkConnection() explains each bad DATABASE_URL and never shows the password", async (t) => {
  const server = new URL(checkpointDatabaseUrl());
  const cases: [string, string, string, string][] = [
    ["malformed", "mysql://app:hunter2@db/shop", "malformed-url", "is not a valid Postgres URL"],
    ["unreachable", "postgres://app:hunter2@127.0.0.1:1/shop", "unreachable", "Cannot reach Postgres at"],
    [
      "database missing",
      Object.assign(new URL(server), { pathname: "/no_such_db_leaklab" }).href,
      "database-missing",
      'Database "no_such_db_leaklab" does not exist',
    ],
  ];
  for (const [label, url, kind, message] of cases) {
    await t.step(label, async () => {
      const error = await assertRejects(() => checkConnection(url, 2_000), DatabaseConnectionError, message);
      assertEquals(error.name, "DatabaseConnectionError");
      assertEquals(error.kind, kind);
      assertStringIncludes(error.message, "unset DATABASE_URL");
      assertNotMatch(error.message, /hunter2/);
      if (kind !== "malformed-url") assertInstanceOf(error.cause, Error);
    });
  }
});

Deno.test("checkConnection() explains a rejected password without showing it", async () => {
  const server = new URL(checkpointDatabaseUrl());
  if (!server.password) {
    // Trust-auth servers accept any password; the embedded server always has one.
    const previous = Deno.env.get("DATABASE_URL");
    Deno.env.delete("DATABASE_URL");
    const db = await openDatabase();
    if (previous) Deno.env.set("DATABASE_URL", previous);
    try {
      await assertWrongPassword(new URL(db.url));
    } finally {
      await db.stop();
    }
    return;
  }
  await assertWrongPassword(server);
});

async function assertWrongPassword(server: URL) {
  const wrong = new URL(server);
  wrong.password = "not-the-password";
  const error = await assertRejects(() => checkConnection(wrong.href, 2_000), DatabaseConnectionError);
  assertEquals(error.kind, "auth-failed");
  assertStringIncludes(error.message, `rejected the login for user "${decodeURIComponent(server.username)}"`);
  assertStringIncludes(error.message, "Check the user and password in DATABASE_URL");
  assertNotMatch(error.message, /not-the-password/);
}

Deno.test("ensureSchema() is idempotent when several processes run it at once", async () => {
  const url = checkpointDatabaseUrl();
  await Promise.all([ensureSchema(url), ensureSchema(url), ensureSchema(url)]);
  assertEquals(await count(url, "SELECT count(*) FROM sensors"), SEEDED_READINGS);
});

Deno.test("redactUrl() hides passwords in parseable and malformed URLs", () => {
  assertEquals(redactUrl("postgres://app:s3cret@db:5432/shop"), "postgres://app:***@db:5432/shop");
  assertEquals(redactUrl("postgres://app@db/shop"), "postgres://app@db/shop");
  assertEquals(redactUrl("postgres://db/shop?password=s3cret"), "postgres://db/shop?password=***");
  assertEquals(redactUrl("postgres://app:s3cret@[bad"), "postgres://app:***@[bad");
});

const hasCreatedb = (await new Deno.Command("sh", { args: ["-c", "command -v createdb"], stdout: "null" }).output())
  .success;

Deno.test({
  name: "a database name with %3D, a quote, a space or a $ is named as Postgres sees it, and its createdb line works",
  ...requirement("createdb", hasCreatedb, "apt-get install -y postgresql-client"),
  fn: async () => {
    const server = new URL(checkpointDatabaseUrl());
    const url = Object.assign(new URL(server), { pathname: "/leaklab_%3Dx%27y%20z$HOME" }).href;
    const error = await assertRejects(() => checkConnection(url, 2_000), DatabaseConnectionError);
    assertEquals(error.kind, "database-missing", error.message);
    // What pg asked for, in Postgres' own words: pg decodes the path with decodeURI, which leaves %3D alone.
    const asked = /database "(.*)" does not exist/.exec((error.cause as Error).message)?.[1];
    assertEquals(asked, "leaklab_%3Dx'y z$HOME");
    assertStringIncludes(error.message, `Database "${asked}" does not exist`);
    const command = /`(createdb [^`]*)`/.exec(error.message)?.[1] ?? "";
    assertStringIncludes(command, `'leaklab_%3Dx'\\''y z$HOME'`, error.message);
    const password = decodeURIComponent(server.password);
    if (password) assertEquals(command.includes(password), false, "no password on the command line");
    try {
      const created = await new Deno.Command("sh", {
        args: ["-c", command],
        env: password ? { PGPASSWORD: password } : {},
        stdin: "null",
        stdout: "piped",
        stderr: "piped",
      }).output();
      assert(created.success, `${command}: ${new TextDecoder().decode(created.stderr)}`);
      await checkConnection(url, 2_000); // the database the message named is the one pg connects to
    } finally {
      const client = new pg.Client({ connectionString: server.href });
      await client.connect();
      await client.query(`DROP DATABASE IF EXISTS "${asked?.replaceAll('"', '""')}"`);
      await client.end();
    }
  },
});

Deno.test("a database name with a lone % is no URIError: checkConnection() and TracedPool name it as pg does", async () => {
  const url = Object.assign(new URL(checkpointDatabaseUrl()), { pathname: "/leaklab_%zz" }).href;
  const error = await assertRejects(() => checkConnection(url, 2_000), DatabaseConnectionError);
  assertEquals(error.kind, "database-missing", error.message);
  assertStringIncludes(error.message, 'Database "leaklab_%zz" does not exist');
  const pool = new TracedPool({ connectionString: url, log: () => {} });
  await pool.end();
});
