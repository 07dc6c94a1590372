/**
 * A bounded run of `deno task soak` (2,000 requests instead of 20,000): the
 * service at 30 % faults ends with 0 leaks, pg_stat_activity agreeing with
 * /api/pool, every answer a 200 or a 500, and a clean stop. Its RSS check
 * needs the service idle for some 20 s (V8's memory reducer), so it is left
 * to the soak task itself (README, "Reliability").
 */
import { assert, assertEquals, assertGreater } from "@std/assert";
import { checkpointDatabaseUrl } from "../lib/workshop/checkpoint_database.ts";
import { soak } from "../tasks/soak.ts";

Deno.test("2,000 POST /api/good at FAIL_RATE=0.3: 0 leaks, pg_stat_activity = /api/pool, clean stop", async () => {
  const result = await soak({ databaseUrl: checkpointDatabaseUrl(), requests: 2_000, settleMs: 0 });
  const failed = result.checks.filter((c) => !c.ok && !c.check.startsWith("RSS")).map((c) => `${c.check}: ${c.detail}`);
  assertEquals(failed, []);
  assertEquals(result.answers["200 ok"] + result.answers["500 query failed"], 2_000);
  const failures = result.answers["500 query failed"] / 2_000;
  assert(failures > 0.25 && failures < 0.35, `about 30 % of queries failed: ${failures}`);
  assertEquals([result.pool.leaked, result.pool.active, result.pool.waiting, result.leakWarnings], [0, 0, 0, 0]);
  assertGreater(result.backends, 0, "the pool's connections were open, and counted in pg_stat_activity");
  assertEquals(result.backends, result.pool.total);
  assertEquals(result.exitCode, 0);
});
