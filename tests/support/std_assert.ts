/**
 * A stand-in for `jsr:@std/assert` 1.x, for machines that cannot reach
 * jsr.io. `deno.json` maps the bare specifier `@std/assert` here; where JSR
 * works, change that one line to `"@std/assert": "jsr:@std/assert@^1"` and
 * no import changes.
 *
 * Only the functions the tests use are here, and each behaves as std's does,
 * so switching cannot change what a test asserts: the same pass/fail rules
 * (`equal()` below is std's own deep equality, ported from
 * `assert/equal.ts`: `-0` equals `0`, `NaN` equals `NaN`, a null-prototype
 * object equals a plain one, class instances compare their prototype
 * chains' keys), the same overloads, the same error class and message
 * headlines. Values in messages are formatted with `Deno.inspect` and std's
 * options; only the diff below the headline is drawn more simply than std's.
 * `tests/std_assert_test.ts` pins that behaviour against std's own tests.
 *
 * @module
 */

/** Thrown when an assertion fails (std's `AssertionError`). */
export class AssertionError extends Error {
  /** @param message what was expected and what was found */
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = "AssertionError";
  }
}

// deno-lint-ignore no-explicit-any
type AnyErrorClass<E extends Error> = abstract new (...args: any[]) => E;

/** Asserts that `expr` is truthy. */
export function assert(expr: unknown, msg = ""): asserts expr {
  if (!expr) throw new AssertionError(msg);
}

/** Asserts deep equality by std's `equal()`. */
export function assertEquals<T>(actual: T, expected: T, msg?: string): void {
  if (equal(actual, expected)) return;
  throw new AssertionError(`Values are not equal${suffix(msg)}\n${diffMessage(actual, expected)}`);
}

/** Asserts deep inequality by std's `equal()`. */
export function assertNotEquals<T>(actual: T, expected: T, msg?: string): void {
  if (!equal(actual, expected)) return;
  throw new AssertionError(`Expected actual: ${format(actual)} not to be: ${format(expected)}${suffix(msg)}`);
}

/** Asserts `Object.is(actual, expected)`. */
export function assertStrictEquals<T>(actual: unknown, expected: T, msg?: string): asserts actual is T {
  if (Object.is(actual, expected)) return;
  const actualString = format(actual);
  if (actualString === format(expected)) {
    const withOffset = actualString.split("\n").map((line) => `    ${line}`).join("\n");
    throw new AssertionError(
      `Values have the same structure but are not reference-equal${suffix(msg)}\n\n${withOffset}\n`,
    );
  }
  throw new AssertionError(`Values are not strictly equal${suffix(msg)}\n${diffMessage(actual, expected)}`);
}

/** Asserts `actual > expected`. */
export function assertGreater<T>(actual: T, expected: T, msg?: string): void {
  if (actual > expected) return;
  throw new AssertionError(msg ?? `Expect ${format(actual)} > ${format(expected)}`);
}

/** Asserts `actual >= expected`. */
export function assertGreaterOrEqual<T>(actual: T, expected: T, msg?: string): void {
  if (actual >= expected) return;
  throw new AssertionError(msg ?? `Expect ${format(actual)} >= ${format(expected)}`);
}

/** Asserts `actual < expected`. */
export function assertLess<T>(actual: T, expected: T, msg?: string): void {
  if (actual < expected) return;
  throw new AssertionError(msg ?? `Expect ${format(actual)} < ${format(expected)}`);
}

/** Asserts that `actual` is an instance of `expectedType`. */
// deno-lint-ignore no-explicit-any
export function assertInstanceOf<T extends abstract new (...args: any[]) => any>(
  actual: unknown,
  expectedType: T,
  msg = "",
): asserts actual is InstanceType<T> {
  if (actual instanceof expectedType) return;
  const expectedName = expectedType.name;
  const actualName = actual === null
    ? "null"
    : actual === undefined
    ? "undefined"
    : typeof actual === "object"
    ? (actual.constructor?.name ?? "Object")
    : typeof actual;
  if (expectedName === actualName) {
    throw new AssertionError(`Expected object to be an instance of "${expectedName}"${suffix(msg)}`);
  }
  if (actualName === "function") {
    throw new AssertionError(
      `Expected object to be an instance of "${expectedName}" but was not an instanced object${suffix(msg)}`,
    );
  }
  throw new AssertionError(
    `Expected object to be an instance of "${expectedName}" but was "${actualName}"${suffix(msg)}`,
  );
}

/** Asserts that `actual` matches `expected`. */
export function assertMatch(actual: string, expected: RegExp, msg?: string): void {
  if (expected.test(actual)) return;
  throw new AssertionError(`Expected actual: "${actual}" to match: "${expected}"${suffix(msg)}`);
}

/** Asserts that `actual` does not match `expected`. */
export function assertNotMatch(actual: string, expected: RegExp, msg?: string): void {
  if (!expected.test(actual)) return;
  throw new AssertionError(`Expected actual: "${actual}" to not match: "${expected}"${suffix(msg)}`);
}

/** Asserts that `actual` contains `expected`. */
export function assertStringIncludes(actual: string, expected: string, msg?: string): void {
  if (actual.includes(expected)) return;
  throw new AssertionError(`Expected actual: "${actual}" to contain: "${expected}"${suffix(msg)}`);
}

/** Asserts that `fn` throws; returns what it threw. */
export function assertThrows(fn: () => unknown, msg?: string): unknown;
/** Asserts that `fn` throws an `ErrorClass` whose message includes `msgIncludes`; returns the error. */
export function assertThrows<E extends Error = Error>(
  fn: () => unknown,
  ErrorClass: AnyErrorClass<E>,
  msgIncludes?: string,
  msg?: string,
): E;
export function assertThrows<E extends Error = Error>(
  fn: () => unknown,
  errorClassOrMsg?: AnyErrorClass<E> | string,
  msgIncludesOrMsg?: string,
  msg?: string,
): E | Error | unknown {
  const expectation = expectedError(errorClassOrMsg, msgIncludesOrMsg, msg);
  try {
    fn();
  } catch (error) {
    if (expectation.ErrorClass) {
      if (!(error instanceof Error)) {
        throw new AssertionError(`A non-Error object was thrown${suffix(expectation.msg)}`);
      }
      assertIsError(error, expectation.ErrorClass, expectation.msgIncludes, expectation.msg);
    }
    return error;
  }
  throw new AssertionError(`Expected function to throw${suffix(expectation.msg)}`);
}

/** Asserts that `fn` returns a promise that rejects; returns the rejection. */
export function assertRejects(fn: () => PromiseLike<unknown>, msg?: string): Promise<unknown>;
/** Asserts that `fn`'s promise rejects with an `ErrorClass` whose message includes `msgIncludes`. */
export function assertRejects<E extends Error = Error>(
  fn: () => PromiseLike<unknown>,
  ErrorClass: AnyErrorClass<E>,
  msgIncludes?: string,
  msg?: string,
): Promise<E>;
export async function assertRejects<E extends Error = Error>(
  fn: () => PromiseLike<unknown>,
  errorClassOrMsg?: AnyErrorClass<E> | string,
  msgIncludesOrMsg?: string,
  msg?: string,
): Promise<E | Error | unknown> {
  // std's assertRejects ignores the 3rd argument when the 2nd is not an Error class.
  const expectation = typeof errorClassOrMsg === "string" || isErrorClass(errorClassOrMsg)
    ? expectedError(errorClassOrMsg, msgIncludesOrMsg, msg)
    : { ErrorClass: undefined, msgIncludes: undefined, msg };
  let promise: PromiseLike<unknown>;
  try {
    promise = fn();
  } catch {
    throw new AssertionError(`Function throws when expected to reject${suffix(expectation.msg)}`);
  }
  if (!promise || typeof promise !== "object" || typeof promise.then !== "function") {
    throw new AssertionError(`Function throws when expected to reject${suffix(expectation.msg)}`);
  }
  try {
    await promise;
  } catch (error) {
    if (expectation.ErrorClass) {
      if (!(error instanceof Error)) {
        throw new AssertionError(`A non-Error object was rejected${suffix(expectation.msg)}`);
      }
      assertIsError(error, expectation.ErrorClass, expectation.msgIncludes, expectation.msg);
    }
    return error;
  }
  throw new AssertionError(`Expected function to reject${suffix(expectation.msg)}`);
}

function isErrorClass(value: unknown): value is AnyErrorClass<Error> {
  const prototype = (value as { prototype?: unknown } | undefined)?.prototype;
  return prototype instanceof Error || prototype === Error.prototype;
}

/** std's reading of the overloads: (fn, msg) or (fn, ErrorClass, msgIncludes, msg). */
function expectedError<E extends Error>(
  errorClassOrMsg: AnyErrorClass<E> | string | undefined,
  msgIncludesOrMsg: string | undefined,
  msg: string | undefined,
): { ErrorClass?: AnyErrorClass<E>; msgIncludes?: string; msg?: string } {
  if (typeof errorClassOrMsg === "string") return { msg: errorClassOrMsg };
  if (errorClassOrMsg === undefined || isErrorClass(errorClassOrMsg)) {
    return { ErrorClass: errorClassOrMsg, msgIncludes: msgIncludesOrMsg, msg };
  }
  return { msg: msgIncludesOrMsg };
}

const ANSI =
  // deno-lint-ignore no-control-regex
  /[\u001B\u009B][[\]()#;?]*(?:(?:(?:;[-a-zA-Z\d\/#&.:=?%@~_]*)*)?\u0007|(?:\d{1,4}(?:;\d{0,4})*)?[\dA-PR-TZcf-ntqry=><~])/g;

/** std's `assertIsError`, as assertThrows and assertRejects use it. */
function assertIsError<E extends Error>(
  error: Error,
  ErrorClass: AnyErrorClass<E> | undefined,
  msgIncludes: string | undefined,
  msg: string | undefined,
): void {
  if (ErrorClass && !(error instanceof ErrorClass)) {
    throw new AssertionError(
      `Expected error to be instance of "${ErrorClass.name}", but was "${error?.constructor?.name}"${suffix(msg)}`,
    );
  }
  if (msgIncludes && !error.message.replace(ANSI, "").includes(msgIncludes.replace(ANSI, ""))) {
    throw new AssertionError(
      `Expected error message to include ${JSON.stringify(msgIncludes)}, but got ${JSON.stringify(error?.message)}${
        suffix(msg)
      }`,
    );
  }
}

function suffix(msg: string | undefined): string {
  return msg ? `: ${msg}` : ".";
}

/** std's `format()`: `Deno.inspect` with std's options. */
function format(value: unknown): string {
  return Deno.inspect(value, {
    depth: Infinity,
    sorted: true,
    trailingComma: true,
    compact: false,
    iterableLimit: Infinity,
    getters: true,
    strAbbreviateSize: Infinity,
  });
}

/** std's diff block: actual lines marked `-`, expected lines `+`, common lines indented. */
function diffMessage(actual: unknown, expected: unknown): string {
  const a = typeof actual === "string" ? actual.split("\n") : format(actual).split("\n");
  const b = typeof expected === "string" ? expected.split("\n") : format(expected).split("\n");
  // Longest common subsequence of lines, then walk it.
  const lcs = Array.from({ length: a.length + 1 }, () => new Array<number>(b.length + 1).fill(0));
  for (let i = a.length - 1; i >= 0; i--) {
    for (let j = b.length - 1; j >= 0; j--) {
      lcs[i][j] = a[i] === b[j] ? lcs[i + 1][j + 1] + 1 : Math.max(lcs[i + 1][j], lcs[i][j + 1]);
    }
  }
  const lines: string[] = [];
  let i = 0;
  let j = 0;
  while (i < a.length || j < b.length) {
    if (i < a.length && j < b.length && a[i] === b[j]) {
      lines.push(`    ${a[i++]}`);
      j++;
    } else if (j < b.length && (i === a.length || lcs[i][j + 1] >= lcs[i + 1][j])) {
      lines.push(`+   ${b[j++]}`);
    } else {
      lines.push(`-   ${a[i++]}`);
    }
  }
  return ["", "", "    [Diff] Actual / Expected", "", "", ...lines, ""].join("\n");
}

// ---------------------------------------------------------------------------
// std's deep equality, ported from jsr:@std/assert@1.0.19 `equal.ts`
// (Copyright 2018-2026 the Deno authors. MIT license.)

type KeyedCollection = Set<unknown> | Map<unknown, unknown>;
type TypedArray = Pick<Uint8Array | BigUint64Array, "length" | number>;
const TypedArray = Object.getPrototypeOf(Uint8Array);

function isKeyedCollection(x: unknown): x is KeyedCollection {
  return x instanceof Set || x instanceof Map;
}

function prototypesEqual(a: object, b: object): boolean {
  const pa = Object.getPrototypeOf(a);
  const pb = Object.getPrototypeOf(b);
  return pa === pb || pa === Object.prototype && pb === null || pa === null && pb === Object.prototype;
}

function isBasicObjectOrArray(obj: object): boolean {
  const proto = Object.getPrototypeOf(obj);
  return proto === null || proto === Object.prototype || proto === Array.prototype;
}

function ownKeys(obj: object): (string | symbol)[] {
  return [...Object.getOwnPropertyNames(obj), ...Object.getOwnPropertySymbols(obj)];
}

function getKeysDeep(obj: object): Set<string | symbol> {
  const keys = new Set<string | symbol>();
  while (obj !== Object.prototype && obj !== Array.prototype && obj != null) {
    for (const key of ownKeys(obj)) keys.add(key);
    obj = Object.getPrototypeOf(obj);
  }
  return keys;
}

// deno-lint-ignore no-explicit-any
const Temporal = (globalThis as any).Temporal ?? Object.create(null);

const stringComparablePrototypes = new Set<unknown>(
  [
    Intl.Locale,
    RegExp,
    Temporal.Duration,
    Temporal.Instant,
    Temporal.PlainDate,
    Temporal.PlainDateTime,
    Temporal.PlainTime,
    Temporal.PlainYearMonth,
    Temporal.PlainMonthDay,
    Temporal.ZonedDateTime,
    URL,
    URLSearchParams,
  ].filter((x) => x != null).map((x) => x.prototype),
);

function isPrimitive(x: unknown): boolean {
  return typeof x === "string" || typeof x === "number" || typeof x === "boolean" || typeof x === "bigint" ||
    typeof x === "symbol" || x == null;
}

function compareTypedArrays(a: TypedArray, b: TypedArray): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < b.length; i++) {
    if (!sameValueZero(a[i], b[i])) return false;
  }
  return true;
}

function sameValueZero(a: unknown, b: unknown): boolean {
  return a === b || Object.is(a, b);
}

/** std's deep equality, as `assertEquals` uses it. */
export function equal(a: unknown, b: unknown): boolean {
  const seen = new Map<unknown, unknown>();
  return (function compare(a: unknown, b: unknown): boolean {
    if (sameValueZero(a, b)) return true;
    if (isPrimitive(a) || isPrimitive(b)) return false;
    if (a instanceof Date && b instanceof Date) return Object.is(a.getTime(), b.getTime());
    if (a && typeof a === "object" && b && typeof b === "object") {
      if (!prototypesEqual(a, b)) return false;
      if (a instanceof TypedArray) return compareTypedArrays(a as TypedArray, b as TypedArray);
      if (a instanceof ArrayBuffer || (globalThis.SharedArrayBuffer && a instanceof SharedArrayBuffer)) {
        return compareTypedArrays(new Uint8Array(a), new Uint8Array(b as ArrayBuffer | SharedArrayBuffer));
      }
      if (a instanceof WeakMap) throw new TypeError("Cannot compare WeakMap instances");
      if (a instanceof WeakSet) throw new TypeError("Cannot compare WeakSet instances");
      if (a instanceof WeakRef) return compare(a.deref(), (b as WeakRef<WeakKey>).deref());
      if (seen.get(a) === b) return true;
      if (Object.keys(a).length !== Object.keys(b).length) return false;
      seen.set(a, b);
      if (isKeyedCollection(a) && isKeyedCollection(b)) {
        if (a.size !== b.size) return false;
        const aKeys = [...a.keys()];
        if (aKeys.every(isPrimitive)) {
          if (a instanceof Set) return a.symmetricDifference(b as Set<unknown>).size === 0;
          for (const key of aKeys) {
            if (!b.has(key) || !compare((a as Map<unknown, unknown>).get(key), (b as Map<unknown, unknown>).get(key))) {
              return false;
            }
          }
          return true;
        }
        let unmatchedEntries = a.size;
        for (const [aKey, aValue] of a.entries()) {
          for (const [bKey, bValue] of b.entries()) {
            // Map keys can be references: they must be deeply equal too.
            if (!compare(aKey, bKey)) continue;
            if ((aKey === aValue && bKey === bValue) || compare(aValue, bValue)) {
              unmatchedEntries--;
              break;
            }
          }
        }
        return unmatchedEntries === 0;
      }
      let keys: Iterable<string | symbol>;
      if (isBasicObjectOrArray(a)) {
        keys = ownKeys({ ...a, ...b });
      } else if (stringComparablePrototypes.has(Object.getPrototypeOf(a))) {
        return String(a) === String(b);
      } else {
        keys = getKeysDeep(a).union(getKeysDeep(b));
      }
      for (const key of keys) {
        type Key = keyof typeof a;
        if (!compare(a[key as Key], b[key as Key])) return false;
        if (((key in a) && !(key in b)) || ((key in b) && !(key in a))) return false;
      }
      return true;
    }
    return false;
  })(a, b);
}
