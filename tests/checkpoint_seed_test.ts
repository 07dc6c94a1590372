import { assert, assertEquals, assertNotEquals, assertThrows } from "@std/assert";
import { checkpointSeed, SEED_ENV, seededRandom } from "../lib/workshop/checkpoint_seed.ts";
import { checkpoint } from "../lib/workshop/checkpoint.ts";

function withSeedEnv<T>(value: string | undefined, fn: () => T): T {
  const before = Deno.env.get(SEED_ENV);
  if (value === undefined) Deno.env.delete(SEED_ENV);
  else Deno.env.set(SEED_ENV, value);
  try {
    return fn();
  } finally {
    if (before === undefined) Deno.env.delete(SEED_ENV);
    else Deno.env.set(SEED_ENV, before);
  }
}

Deno.test("LEAKLAB_SEED fixes a checkpoint's seed; without it every run draws a new one", () => {
  assertEquals(withSeedEnv("12345", checkpointSeed), 12345);
  assertEquals(withSeedEnv(" 7 ", checkpointSeed), 7);
  const seeds = new Set(Array.from({ length: 20 }, () => withSeedEnv(undefined, checkpointSeed)));
  assert(seeds.size > 15, `20 unseeded runs drew ${seeds.size} distinct seeds`);
  for (const seed of seeds) assert(Number.isInteger(seed) && seed >= 1 && seed <= 2 ** 31 - 1);
  const step = withSeedEnv("99", () => checkpoint({ step: "03-fix-with-finally", edit: "x.ts", database: false }));
  assertEquals(step.seed, 99);
});

Deno.test("a LEAKLAB_SEED that is not a seed says what it must be and how to get new scenarios", () => {
  for (const bad of ["abc", "0", "-4", "1.5", "2147483648", "1e3"]) {
    const error = assertThrows(() => withSeedEnv(bad, checkpointSeed), RangeError);
    assert(error.message.includes(`"${bad}"`), error.message);
    assert(error.message.includes("an integer from 1 to 2147483647"), error.message);
    assert(error.message.includes("Unset it"), error.message);
  }
});

Deno.test("seededRandom(): the same seed and label draw the same scenarios, other labels and seeds draw others", () => {
  const draw = (seed: number, label: string) => {
    const random = seededRandom(seed, label);
    return [random.int(1, 100), random.pick(["a", "b", "c"]), random.shuffle([1, 2, 3, 4, 5]), random.sample(3, 1, 10)];
  };
  assertEquals(draw(42, "pool size"), draw(42, "pool size"));
  assertNotEquals(JSON.stringify(draw(42, "pool size")), JSON.stringify(draw(42, "leak order")));
  assertNotEquals(JSON.stringify(draw(42, "pool size")), JSON.stringify(draw(43, "pool size")));
  const random = seededRandom(1);
  const counts = new Map<number, number>();
  for (let i = 0; i < 6000; i++) {
    const value = random.int(1, 6);
    counts.set(value, (counts.get(value) ?? 0) + 1);
  }
  assertEquals([...counts.keys()].sort(), [1, 2, 3, 4, 5, 6], "int() reaches both ends of its range");
  for (const count of counts.values()) assert(count > 800 && count < 1200, `a fair die: ${[...counts.values()]}`);
  const sample = random.sample(4, 0, 9);
  assertEquals(new Set(sample).size, 4);
  assertEquals(sample, [...sample].sort((a, b) => a - b));
  assertThrows(() => random.sample(5, 1, 4), RangeError, "Cannot sample 5 distinct integers from 1 to 4");
  assertEquals(random.shuffle([3, 1, 2]).sort(), [1, 2, 3]);
});
