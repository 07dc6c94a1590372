/**
 * A small stand-in for `jsr:@std/assert`, built on `node:assert`.
 *
 * jsr.io is not reachable from the machines this workshop is built on, so
 * `deno.json` maps the bare specifier `@std/assert` here. Where JSR works,
 * change that one line to `"@std/assert": "jsr:@std/assert@^1"`: every
 * function below keeps std's name and argument order, so no import changes.
 *
 * @module
 */
import nodeAssert from "node:assert";
import { isDeepStrictEqual } from "node:util";

/** Thrown when an assertion fails (same name as std's). */
export class AssertionError extends Error {
  /** @param message what was expected and what was found */
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = "AssertionError";
  }
}

function check(fn: () => void, msg?: string): void {
  try {
    fn();
  } catch (error) {
    const detail = error instanceof Error ? error.message : String(error);
    throw new AssertionError(msg ? `${msg}\n${detail}` : detail, {
      cause: error,
    });
  }
}

/** Asserts that `expr` is truthy. */
export function assert(expr: unknown, msg = "Expected value to be truthy"): asserts expr {
  if (!expr) throw new AssertionError(msg);
}

/** Asserts deep equality (structural, strict). */
export function assertEquals<T>(actual: T, expected: T, msg?: string): void {
  check(() => nodeAssert.deepStrictEqual(actual, expected), msg);
}

/** Asserts deep inequality. */
export function assertNotEquals<T>(actual: T, expected: T, msg?: string): void {
  check(() => nodeAssert.notDeepStrictEqual(actual, expected), msg);
}

/** Asserts `Object.is` equality. */
export function assertStrictEquals<T>(actual: unknown, expected: T, msg?: string): asserts actual is T {
  check(() => nodeAssert.strictEqual(actual, expected), msg);
}

/** Asserts that a value is neither `null` nor `undefined`. */
export function assertExists<T>(actual: T, msg?: string): asserts actual is NonNullable<T> {
  if (actual === null || actual === undefined) {
    throw new AssertionError(msg ?? `Expected actual: "${actual}" to not be null or undefined.`);
  }
}

/** Asserts that `actual` matches the regular expression. */
export function assertMatch(actual: string, expected: RegExp, msg?: string): void {
  check(() => nodeAssert.match(actual, expected), msg);
}

/** Asserts that `actual` does not match the regular expression. */
export function assertNotMatch(actual: string, expected: RegExp, msg?: string): void {
  check(() => nodeAssert.doesNotMatch(actual, expected), msg);
}

/** Asserts that `actual` contains `expected`. */
export function assertStringIncludes(actual: string, expected: string, msg?: string): void {
  if (!actual.includes(expected)) {
    throw new AssertionError(msg ?? `Expected actual: "${actual}" to contain: "${expected}".`);
  }
}

/** Asserts that `actual` includes every value in `expected` (deep equality). */
export function assertArrayIncludes<T>(actual: ArrayLike<T>, expected: ArrayLike<T>, msg?: string): void {
  const items = Array.from(actual);
  const missing = Array.from(expected).filter((want) => !items.some((have) => isDeepStrictEqual(have, want)));
  if (missing.length > 0) {
    throw new AssertionError(msg ?? `Expected array to include ${JSON.stringify(missing)}.`);
  }
}

/** Asserts that `actual` has at least the properties of `expected`. */
export function assertObjectMatch(
  actual: Record<PropertyKey, unknown>,
  expected: Record<PropertyKey, unknown>,
  msg?: string,
): void {
  const picked = Object.fromEntries(Object.keys(expected).map((key) => [key, actual[key]]));
  assertEquals(picked, expected, msg);
}

/** Asserts `actual` is an instance of `expectedType`. */
export function assertInstanceOf<T extends abstract new (...args: never[]) => unknown>(
  actual: unknown,
  expectedType: T,
  msg?: string,
): asserts actual is InstanceType<T> {
  if (!(actual instanceof expectedType)) {
    const got = (actual as object)?.constructor?.name ?? typeof actual;
    throw new AssertionError(msg ?? `Expected object to be an instance of "${expectedType.name}" but was "${got}".`);
  }
}

/** Asserts `actual > expected`. */
export function assertGreater<T>(actual: T, expected: T, msg?: string): void {
  if (!(actual > expected)) throw new AssertionError(msg ?? `Expect ${actual} > ${expected}`);
}

/** Asserts `actual >= expected`. */
export function assertGreaterOrEqual<T>(actual: T, expected: T, msg?: string): void {
  if (!(actual >= expected)) throw new AssertionError(msg ?? `Expect ${actual} >= ${expected}`);
}

/** Asserts `actual < expected`. */
export function assertLess<T>(actual: T, expected: T, msg?: string): void {
  if (!(actual < expected)) throw new AssertionError(msg ?? `Expect ${actual} < ${expected}`);
}

/** Asserts `actual <= expected`. */
export function assertLessOrEqual<T>(actual: T, expected: T, msg?: string): void {
  if (!(actual <= expected)) throw new AssertionError(msg ?? `Expect ${actual} <= ${expected}`);
}

/** Asserts two numbers are within `tolerance` of each other. */
export function assertAlmostEquals(actual: number, expected: number, tolerance = 1e-7, msg?: string): void {
  if (Math.abs(actual - expected) > tolerance) {
    throw new AssertionError(
      msg ??
        `Expected actual: "${actual}" to be close to "${expected}": delta "${
          Math.abs(actual - expected)
        }" is greater than "${tolerance}".`,
    );
  }
}

/** Fails unconditionally. */
export function fail(msg?: string): never {
  throw new AssertionError(msg ? `Failed assertion: ${msg}` : "Failed assertion.");
}

/** Marks code that must not be reached. */
export function unreachable(msg?: string): never {
  throw new AssertionError(msg ?? "Unreachable");
}

type ErrorClass<E extends Error> = abstract new (...args: never[]) => E;

function checkError<E extends Error>(
  error: unknown,
  ErrorClass?: ErrorClass<E>,
  msgIncludes?: string,
): E {
  if (ErrorClass && !(error instanceof ErrorClass)) {
    const got = (error as object)?.constructor?.name ?? typeof error;
    throw new AssertionError(
      `Expected error to be instance of "${ErrorClass.name}", but was "${got}": ${String(error)}`,
      { cause: error },
    );
  }
  if (msgIncludes !== undefined && !(error as Error).message?.includes(msgIncludes)) {
    throw new AssertionError(
      `Expected error message to include ${JSON.stringify(msgIncludes)}, but got ${
        JSON.stringify((error as Error).message)
      }.`,
      { cause: error },
    );
  }
  return error as E;
}

/** Asserts that `fn` throws, optionally of a class and with a message part; returns the error. */
export function assertThrows<E extends Error = Error>(
  fn: () => unknown,
  ErrorClass?: ErrorClass<E>,
  msgIncludes?: string,
): E {
  try {
    fn();
  } catch (error) {
    return checkError(error, ErrorClass, msgIncludes);
  }
  throw new AssertionError("Expected function to throw.");
}

/** Asserts that `fn` rejects, optionally of a class and with a message part; returns the error. */
export async function assertRejects<E extends Error = Error>(
  fn: () => PromiseLike<unknown>,
  ErrorClass?: ErrorClass<E>,
  msgIncludes?: string,
): Promise<E> {
  try {
    await fn();
  } catch (error) {
    return checkError(error, ErrorClass, msgIncludes);
  }
  throw new AssertionError("Expected function to reject.");
}
