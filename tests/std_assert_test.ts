/**
 * Pins the `@std/assert` stand-in (`tests/support/std_assert.ts`) to what
 * jsr:@std/assert 1.0.19 does, case by case from std's own tests, so that
 * switching `deno.json` to the real package cannot change what any test
 * asserts. Each case says what std does; where Node's `assert` differs, the
 * case says so, because that is where a naive adapter goes wrong.
 */
import {
  assert,
  assertEquals,
  AssertionError,
  assertNotEquals,
  assertRejects,
  assertStrictEquals,
  assertThrows,
  equal,
} from "@std/assert";
import * as adapter from "./support/std_assert.ts";

/** Runs `fn` and returns the AssertionError it threw, failing when it threw anything else or nothing. */
function failure(fn: () => unknown): AssertionError {
  try {
    fn();
  } catch (error) {
    if (error instanceof AssertionError) return error;
    throw new Error(`expected an AssertionError, got ${error}`, { cause: error });
  }
  throw new Error("expected an AssertionError, nothing was thrown");
}

Deno.test("the @std/assert import map points at the stand-in", () => {
  assertStrictEquals(assertEquals, adapter.assertEquals);
  assertStrictEquals(AssertionError, adapter.AssertionError);
});

Deno.test("equal() treats 0 and -0 as equal, and NaN as equal to itself (node's deepStrictEqual does not)", () => {
  assert(equal(0, -0));
  assert(equal([0], [-0]));
  assert(equal({ case: 0 }, { case: -0 }));
  assert(equal(NaN, NaN));
  assert(!equal(null, undefined));
});

Deno.test("equal() compares plain objects, arrays, symbols, dates, regexps, sets and maps by value", () => {
  assert(equal({ hello: "world", hi: { there: "everyone" } }, { hello: "world", hi: { there: "everyone" } }));
  assert(!equal({ hello: "world", hi: { there: "everyone" } }, { hello: "world", hi: { there: "everyone else" } }));
  assert(!equal({}, { hello: "world" }));
  assert(!equal({ a: undefined }, {}), "a key holding undefined is not a missing key");
  assert(equal({ [Symbol.for("foo")]: "bar" }, { [Symbol.for("foo")]: "bar" }));
  assert(!equal({ [Symbol("foo")]: "bar" }, { [Symbol("foo")]: "bar" }));
  assert(equal(/deno/, /deno/));
  assert(!equal(/deno/, /node/));
  assert(equal(new Date(2019, 0, 3), new Date(2019, 0, 3)));
  assert(!equal(new Date(2019, 0, 3), new Date(2019, 1, 3)));
  assert(equal(new Date("Invalid"), new Date("Invalid")));
  assert(equal(new Set([1, 2, 3]), new Set([3, 2, 1])));
  assert(equal(new Set([1, new Set([2, 3])]), new Set([new Set([3, 2]), 1])));
  assert(!equal(new Set([1, 2]), new Set([3, 2, 1])));
  assert(equal(new Map([["foo", "bar"], ["baz", "qux"]]), new Map([["baz", "qux"], ["foo", "bar"]])));
  assert(!equal(new Map([["foo", "bar"]]), new Map([["bar", "baz"]])));
  assert(equal(new Map([[{ x: 1 }, "a"]]), new Map([[{ x: 1 }, "a"]])), "object keys compare deeply");
  assert(equal(new Uint8Array([1, 2]), new Uint8Array([1, 2])));
  assert(!equal(new Uint8Array([1, 2]), new Uint8Array([1, 3])));
  assert(equal(new URL("https://example.com/a"), new URL("https://example.com/a")));
});

Deno.test("equal() accepts a null-prototype object for a plain one, but not another class (node's strict mode refuses both)", () => {
  assert(equal(Object.assign(Object.create(null), { a: 1 }), { a: 1 }));
  class Point {
    constructor(readonly x: number) {}
  }
  assert(equal(new Point(1), new Point(1)));
  assert(!equal(new Point(1), { x: 1 }));
  assert(!equal(new Point(1), new Point(2)));
});

Deno.test("equal() follows cycles and refuses WeakMap and WeakSet", () => {
  const a: Record<string, unknown> = { name: "a" };
  a.self = a;
  const b: Record<string, unknown> = { name: "a" };
  b.self = b;
  assert(equal(a, b));
  assertThrows(() => equal(new WeakMap(), new WeakMap()), TypeError, "Cannot compare WeakMap instances");
  assertThrows(() => equal(new WeakSet(), new WeakSet()), TypeError, "Cannot compare WeakSet instances");
});

Deno.test("assert() throws AssertionError with the message, empty by default", () => {
  assertEquals(failure(() => assert(false)).message, "");
  assertEquals(failure(() => assert(0, "zero")).message, "zero");
  assert(true);
});

Deno.test("assertEquals() and assertNotEquals() word their failures as std does", () => {
  const message = failure(() => assertEquals({ a: 1 }, { a: 2 }, "custom")).message;
  assert(message.startsWith("Values are not equal: custom\n"), message);
  assert(message.includes("[Diff] Actual / Expected"), message);
  assert(message.includes("-     a: 1,") && message.includes("+     a: 2,"), message);
  assert(failure(() => assertEquals(1, 2)).message.startsWith("Values are not equal.\n"));
  assertEquals(failure(() => assertNotEquals([1], [1])).message, "Expected actual: [\n  1,\n] not to be: [\n  1,\n].");
  assertNotEquals(1, 2);
});

Deno.test("assertStrictEquals() uses Object.is and says when only the reference differs", () => {
  assertStrictEquals(NaN, NaN);
  assert(failure(() => assertStrictEquals(0, -0)).message.startsWith("Values are not strictly equal."));
  assert(
    failure(() => assertStrictEquals({ a: 1 }, { a: 1 })).message.startsWith(
      "Values have the same structure but are not reference-equal.",
    ),
  );
});

Deno.test("assertGreater(), assertGreaterOrEqual() and assertLess() word failures as std does", () => {
  adapter.assertGreater(2, 1);
  adapter.assertGreaterOrEqual(1, 1);
  adapter.assertLess(1, 2);
  assertEquals(failure(() => adapter.assertGreater(1, 2)).message, "Expect 1 > 2");
  assertEquals(failure(() => adapter.assertGreaterOrEqual(1, 2)).message, "Expect 1 >= 2");
  assertEquals(failure(() => adapter.assertLess(2, 1)).message, "Expect 2 < 1");
  assertEquals(failure(() => adapter.assertLess(2, 1, "own")).message, "own");
});

Deno.test("assertInstanceOf() names the expected and the actual type", () => {
  adapter.assertInstanceOf(new RangeError("x"), Error);
  assertEquals(
    failure(() => adapter.assertInstanceOf(new Error("x"), RangeError)).message,
    'Expected object to be an instance of "RangeError" but was "Error".',
  );
  assertEquals(
    failure(() => adapter.assertInstanceOf(null, Error)).message,
    'Expected object to be an instance of "Error" but was "null".',
  );
  assertEquals(
    failure(() => adapter.assertInstanceOf(() => {}, Error)).message,
    'Expected object to be an instance of "Error" but was not an instanced object.',
  );
});

Deno.test("assertMatch(), assertNotMatch() and assertStringIncludes() quote actual and expected", () => {
  adapter.assertMatch("leak lab", /lab$/);
  adapter.assertNotMatch("leak lab", /^lab/);
  adapter.assertStringIncludes("leak lab", "k l");
  assertEquals(failure(() => adapter.assertMatch("a", /b/)).message, 'Expected actual: "a" to match: "/b/".');
  assertEquals(
    failure(() => adapter.assertNotMatch("a", /a/, "m")).message,
    'Expected actual: "a" to not match: "/a/": m',
  );
  assertEquals(
    failure(() => adapter.assertStringIncludes("abc", "z")).message,
    'Expected actual: "abc" to contain: "z".',
  );
});

Deno.test("assertThrows() reads (fn, msg) and (fn, ErrorClass, msgIncludes, msg), and returns what was thrown", () => {
  const thrown = new RangeError("out of range: 7");
  assertStrictEquals(
    assertThrows(() => {
      throw thrown;
    }),
    thrown,
  );
  assertStrictEquals(
    assertThrows(
      () => {
        throw thrown;
      },
      RangeError,
      "range: 7",
    ),
    thrown,
  );
  assertEquals(failure(() => assertThrows(() => {})).message, "Expected function to throw.");
  assertEquals(failure(() => assertThrows(() => {}, "own")).message, "Expected function to throw: own");
  assertEquals(
    failure(() =>
      assertThrows(() => {
        throw thrown;
      }, TypeError)
    ).message,
    'Expected error to be instance of "TypeError", but was "RangeError".',
  );
  assertEquals(
    failure(() =>
      assertThrows(
        () => {
          throw thrown;
        },
        RangeError,
        "nope",
      )
    ).message,
    'Expected error message to include "nope", but got "out of range: 7".',
  );
  assertEquals(
    failure(() =>
      assertThrows(() => {
        throw "text";
      }, Error)
    ).message,
    "A non-Error object was thrown.",
  );
  assertEquals(
    assertThrows(() => {
      throw "text";
    }),
    "text",
    "with no class, anything thrown passes",
  );
});

Deno.test("assertRejects() needs a returned promise, and checks class and message like assertThrows()", async () => {
  const rejected = new TypeError("bad input");
  assertStrictEquals(await assertRejects(() => Promise.reject(rejected), TypeError, "bad"), rejected);
  assertEquals(await assertRejects(() => Promise.reject("text")), "text");
  const cases: [() => PromiseLike<unknown>, string][] = [
    [() => Promise.resolve(1), "Expected function to reject."],
    [() => {
      throw rejected;
    }, "Function throws when expected to reject."],
    [() => 1 as unknown as Promise<number>, "Function throws when expected to reject."],
  ];
  for (const [fn, message] of cases) {
    const error = await adapter.assertRejects(fn).then(() => undefined, (error) => error);
    assert(error instanceof AssertionError, `${fn}`);
    assertEquals(error.message, message);
  }
  const wrongClass = await adapter.assertRejects(() => Promise.reject(rejected), RangeError).catch((e) => e);
  assertEquals(wrongClass.message, 'Expected error to be instance of "RangeError", but was "TypeError".');
  const notAnError = await adapter.assertRejects(() => Promise.reject("text"), Error).catch((e) => e);
  assertEquals(notAnError.message, "A non-Error object was rejected.");
});
