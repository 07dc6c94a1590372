import { assertEquals, assertRejects, assertThrows } from "@std/assert";
import pg from "pg";
import { FAILING_SENSOR_QUERY, FaultSchedule, readSensors } from "../lib/demo/fault_schedule.ts";
import { ConfigError } from "../lib/util/env.ts";
import { checkpointDatabaseUrl } from "../lib/workshop/checkpoint_database.ts";

const take = (faults: FaultSchedule, n: number) => Array.from({ length: n }, () => faults.next());

Deno.test("FaultSchedule.next() fails every Nth query", () => {
  assertEquals(take(new FaultSchedule(), 6), [false, true, false, true, false, true], "default: every 2nd");
  assertEquals(take(new FaultSchedule({ failEvery: 3 }), 6), [false, false, true, false, false, true]);
  assertEquals(take(new FaultSchedule({ failEvery: 1 }), 3), [true, true, true]);
  assertEquals(take(new FaultSchedule({ failEvery: 0 }), 3), [false, false, false]);
});

Deno.test("FaultSchedule.next() with a seeded rate repeats exactly and hits the rate", () => {
  const first = take(new FaultSchedule({ failRate: 0.3, seed: 9 }), 2_000);
  const again = new FaultSchedule({ failRate: 0.3, seed: 9 });
  assertEquals(take(again, 2_000), first);
  const failures = first.filter(Boolean).length;
  assertEquals(failures > 540 && failures < 660, true, `about 30 % of 2,000, got ${failures}`);
  again.reset();
  assertEquals(take(again, 10), first.slice(0, 10), "reset() starts over");
  assertEquals(new FaultSchedule({ failRate: 0.3, seed: 9 }).description, "30% of queries fail (seed 9)");
  assertEquals(new FaultSchedule({ failEvery: 3 }).description, "every 3rd query fails");
});

Deno.test("new FaultSchedule() and fromEnv() reject bad settings with the service's limits, naming them", () => {
  assertThrows(() => new FaultSchedule({ failEvery: -1 }), RangeError, "'failEvery' must be a non-negative integer");
  assertThrows(() => new FaultSchedule({ failRate: 1.5 }), RangeError, "'failRate' must be between 0 and 1");
  const env = (values: Record<string, string>) => ({ get: (name: string) => values[name] });
  const bad = assertThrows(
    () => FaultSchedule.fromEnv(env({ FAIL_EVERY: "often" })),
    ConfigError,
    'FAIL_EVERY must be a whole number from 0 to 1000000 (1 = every query fails, 0 = none): current value is "often"',
  );
  assertEquals(bad.variable, "FAIL_EVERY");
  assertThrows(() => FaultSchedule.fromEnv(env({ FAIL_SEED: "-3" })), ConfigError, "FAIL_SEED must be a whole number");
  assertThrows(() => FaultSchedule.fromEnv(env({ FAIL_RATE: "1.5" })), ConfigError, "FAIL_RATE must be a fraction");
  assertEquals(FaultSchedule.fromEnv(env({ FAIL_EVERY: "4" })).failEvery, 4);
  assertEquals(
    FaultSchedule.fromEnv(env({ FAIL_RATE: "0.25", FAIL_SEED: "3" })).description,
    "25% of queries fail (seed 3)",
  );
});

Deno.test("readSensors() returns real rows, and the scheduled failure is Postgres' statement timeout", async () => {
  const client = new pg.Client({ connectionString: checkpointDatabaseUrl() });
  await client.connect();
  try {
    const faults = new FaultSchedule({ failEvery: 2 });
    const rows = await readSensors(client, faults);
    assertEquals(rows.length, 10);
    const error = await assertRejects(() => readSensors(client, faults), Error, "statement timeout");
    assertEquals((error as unknown as { code: string }).code, "57014");
    const { rows: [setting] } = await client.query("SHOW statement_timeout");
    assertEquals(setting.statement_timeout, "0", "SET LOCAL does not outlive the failing query");
    await assertRejects(() => client.query(FAILING_SENSOR_QUERY), Error, "canceling statement");
  } finally {
    await client.end();
  }
});
