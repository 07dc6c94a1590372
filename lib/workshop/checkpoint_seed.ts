/**
 * The seed behind a checkpoint's varied scenarios. A checkpoint varies every
 * fact its exercise does not promise (pool size, which lease leaks, the order
 * and timing of requests…) so an answer cannot lean on one scenario's
 * accident; the seed makes each run's choice repeatable. Every failure message
 * prints it with the command that re-runs the same scenarios
 * (`LEAKLAB_SEED=<seed> deno task check N`).
 *
 * @example
 * ```ts
 * import { seededRandom } from "./checkpoint_seed.ts";
 * const a = seededRandom(42, "pool size");
 * const b = seededRandom(42, "pool size");
 * console.log(a.int(1, 6) === b.int(1, 6)); // true: same seed, same label, same draws
 * ```
 *
 * @module
 */

/** The environment variable that fixes a checkpoint's seed (an integer from 1 to 2147483647). */
export const SEED_ENV = "LEAKLAB_SEED";

const MAX_SEED = 2 ** 31 - 1;

/**
 * The seed for this checkpoint process: {@linkcode SEED_ENV} when set, else a
 * new random one.
 * @throws {RangeError} when {@linkcode SEED_ENV} is set but is not an integer from 1 to 2147483647
 */
export function checkpointSeed(): number {
  const permitted = Deno.permissions.querySync({ name: "env", variable: SEED_ENV }).state === "granted";
  const text = permitted ? Deno.env.get(SEED_ENV)?.trim() : undefined;
  if (!text) return 1 + Math.floor(Math.random() * MAX_SEED);
  const seed = /^\d+$/.test(text) ? Number(text) : NaN;
  if (!Number.isSafeInteger(seed) || seed < 1 || seed > MAX_SEED) {
    throw new RangeError(
      `Cannot run the checkpoint as ${SEED_ENV} must be an integer from 1 to ${MAX_SEED} (the seed a failure ` +
        `message printed): current value is "${text}". Unset it for new scenarios.`,
    );
  }
  return seed;
}

/** Repeatable draws for one checkpoint test's scenarios. */
export interface SeededRandom {
  /** A float in [0, 1). */
  next(): number;
  /** An integer from `min` to `max`, both included. */
  int(min: number, max: number): number;
  /** One of `items`. */
  pick<T>(items: readonly T[]): T;
  /** A shuffled copy of `items`. */
  shuffle<T>(items: readonly T[]): T[];
  /** `count` distinct integers from `min` to `max`, ascending. */
  sample(count: number, min: number, max: number): number[];
}

/**
 * A small, fast PRNG (mulberry32) seeded by `seed` and `label`, so each test
 * (or each scenario, by label) draws its own repeatable sequence whatever the
 * other tests draw. Not for cryptography.
 * @throws {RangeError} when `sample()` is asked for more integers than its range holds
 */
export function seededRandom(seed: number, label = ""): SeededRandom {
  let state = (seed ^ hash(label)) >>> 0;
  const next = () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const int = (min: number, max: number) => min + Math.floor(next() * (max - min + 1));
  const shuffle = <T>(items: readonly T[]): T[] => {
    const copy = [...items];
    for (let i = copy.length - 1; i > 0; i--) {
      const j = int(0, i);
      [copy[i], copy[j]] = [copy[j], copy[i]];
    }
    return copy;
  };
  return {
    next,
    int,
    pick: (items) => items[int(0, items.length - 1)],
    shuffle,
    sample(count, min, max) {
      if (count > max - min + 1) {
        throw new RangeError(`Cannot sample ${count} distinct integers from ${min} to ${max}`);
      }
      const all = Array.from({ length: max - min + 1 }, (_, i) => min + i);
      return shuffle(all).slice(0, count).sort((a, b) => a - b);
    },
  };
}

/** FNV-1a: a label's 32-bit hash, so "pool size" and "leak order" draw apart under one seed. */
function hash(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) h = Math.imul(h ^ text.charCodeAt(i), 0x01000193);
  return h >>> 0;
}
