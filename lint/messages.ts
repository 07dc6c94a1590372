/**
 * What `leak-lab/release-on-every-path` says, one entry per leak shape. Each
 * message names the path that leaks; each hint says what to write instead. The
 * rule, its tests and the workshop all read them from here.
 *
 * @module
 */

/** The names a message fills in. */
export interface LeakContext {
  /** The binding that holds the connection, e.g. `conn`. */
  name: string;
  /** The acquire call as written, e.g. `pool.acquire()`. */
  acquire: string;
  /** The code that leaks, e.g. `await readSensors(conn, faults)` (shortened to one line). */
  culprit: string;
  /** The 1-based line of `culprit`. */
  line: number;
  /** The first release as written, e.g. `conn.release()`. */
  release: string;
  /** The 1-based line of `release`. */
  releaseLine: number;
  /** How the code gives it back, when not `name.release()`: `release()` for a destructured release. */
  releaseCall?: string;
  /** Whether `await using` can hold it: TracedPool's `acquire()` leases are disposable, pg's `connect()` clients not. */
  disposable: boolean;
}

/** A leak shape: its id, the message that says which path leaks, and the fix. */
export interface LeakShape {
  /** Stable id for the shape (tests and workshop hints key on it). */
  id: string;
  /** Matches this shape's messages, and no other shape's (for checkpoints that read `deno lint --json`). */
  pattern: RegExp;
  /** The message: which path leaks, with the code named. */
  message(c: LeakContext): string;
  /** The hint: what to write instead. */
  hint(c: LeakContext): string;
}

const tryFinally = (c: LeakContext) => `\`try { … } finally { ${c.releaseCall ?? `${c.name}.release()`}; }\``;

/** `, or declare \`await using conn = …\`` where the connection is disposable. */
const orUsing = (c: LeakContext) => c.disposable ? `, or declare \`await using ${c.name} = await ${c.acquire};\`` : "";

const usingHint = (c: LeakContext) =>
  c.disposable
    ? `Declare it with \`await using ${c.name} = await ${c.acquire};\` (TracedPool), or start ${tryFinally(c)} on ` +
      `the line right after the acquire.`
    : `Start ${tryFinally(c)} on the line right after the acquire (pg's clients are not disposable: no ` +
      `\`await using\`).`;

const beforeTryHint = (c: LeakContext) =>
  `Start the \`try\` on the line right after the acquire (move line ${c.line} inside it)${orUsing(c)}.`;

/** The name of each shape the rule reports (keys of {@linkcode LEAK_SHAPES}). */
export type LeakShapeName =
  | "discarded"
  | "destructured"
  | "neverReleased"
  | "onlyInCallback"
  | "onlyInCatch"
  | "tryAndCatch"
  | "onlyOnSuccess"
  | "earlyExit"
  | "someBranches"
  | "throwsBeforeTry"
  | "acquireBeforeTry"
  | "exitsBeforeTry"
  | "finallyCallback"
  | "finallyConditional"
  | "unawaitedReturn";

/** Every shape the rule reports, by id. */
export const LEAK_SHAPES: Readonly<Record<LeakShapeName, LeakShape>> = {
  discarded: {
    id: "discarded",
    pattern: /^The connection from `.+` is never kept in a name, /,
    message: (c) =>
      `The connection from \`${c.acquire}\` is never kept in a name, so nothing can release it: every path leaks it.`,
    hint: (c) => `Keep it in a name that releases itself: \`await using conn = await ${c.acquire};\`.`,
  },
  destructured: {
    id: "destructured",
    pattern: /^The connection from `.+` is destructured, /,
    message: (c) =>
      `The connection from \`${c.acquire}\` is destructured, so no name holds the connection itself to release: ` +
      `every path leaks it.`,
    hint: (c) =>
      c.disposable
        ? `Bind the connection itself: \`await using conn = await ${c.acquire};\`, then call \`conn.query(…)\`.`
        : `Bind the client itself: \`const client = await ${c.acquire};\`, and release it in \`finally\`.`,
  },
  neverReleased: {
    id: "never-released",
    pattern: /^`[^`]+` from `.+` is never released: /,
    message: (c) => `\`${c.name}\` from \`${c.acquire}\` is never released: every path leaks the connection.`,
    hint: usingHint,
  },
  onlyInCallback: {
    id: "only-in-callback",
    pattern: /^`[^`]+` is released only inside a callback /,
    message: (c) =>
      `\`${c.name}\` is released only inside a callback (\`${c.release}\`, line ${c.releaseLine}), which may run late ` +
      `or never: until it does, the connection is out of the pool.`,
    hint: usingHint,
  },
  onlyInCatch: {
    id: "only-in-catch",
    pattern: /^`[^`]+` is released only in `catch` /,
    message: (c) =>
      `\`${c.name}\` is released only in \`catch\` (line ${c.releaseLine}): when the \`try\` block succeeds, the ` +
      `connection is never returned.`,
    hint: (c) => `Move \`${c.release}\` from \`catch\` to \`finally\`${orUsing(c)}.`,
  },
  tryAndCatch: {
    id: "try-and-catch",
    pattern: /^`[^`]+` is released separately in `try` and in `catch`/,
    message: (c) =>
      `\`${c.name}\` is released separately in \`try\` and in \`catch\`, not in \`finally\`: a path that leaves the ` +
      `\`try\` before \`${c.release}\` (an early \`return\` or \`break\`, a throw inside \`catch\`) leaks it.`,
    hint: (c) => `Release it once, in \`finally\`${orUsing(c)}.`,
  },
  onlyOnSuccess: {
    id: "only-on-success",
    pattern: /^`[^`]+` is released only on the success path: /,
    message: (c) =>
      `\`${c.name}\` is released only on the success path: if \`${c.culprit}\` (line ${c.line}) throws, ` +
      `\`${c.release}\` (line ${c.releaseLine}) is never reached and the connection leaks.`,
    hint: usingHint,
  },
  earlyExit: {
    id: "early-exit",
    pattern: /^`.+` \(line \d+\) leaves before `[^`]+` is released: /,
    message: (c) =>
      `\`${c.culprit}\` (line ${c.line}) leaves before \`${c.name}\` is released: the connection from ` +
      `\`${c.acquire}\` leaks on that path.`,
    hint: usingHint,
  },
  someBranches: {
    id: "some-branches",
    pattern: /^`[^`]+` is released only on some branches /,
    message: (c) =>
      `\`${c.name}\` is released only on some branches (\`${c.release}\`, line ${c.releaseLine}): on the others ` +
      `the connection leaks.`,
    hint: usingHint,
  },
  throwsBeforeTry: {
    id: "throws-before-try",
    pattern: /^`.+` \(line \d+\) runs after `.+` but before the `try` /,
    message: (c) =>
      `\`${c.culprit}\` (line ${c.line}) runs after \`${c.acquire}\` but before the \`try\` whose \`finally\` ` +
      `releases \`${c.name}\`: if it throws, that \`finally\` never runs and the connection leaks.`,
    hint: beforeTryHint,
  },
  acquireBeforeTry: {
    id: "acquire-before-try",
    pattern: /^`.+` \(line \d+\) takes another connection after `/,
    message: (c) =>
      `\`${c.culprit}\` (line ${c.line}) takes another connection after \`${c.acquire}\` but before the \`try\` ` +
      `whose \`finally\` releases \`${c.name}\`: when it throws (an exhausted pool does), that \`finally\` never ` +
      `runs and \`${c.name}\` leaks.`,
    hint: (c) =>
      `Give each connection its own cleanup from the moment it exists: ` +
      (c.disposable
        ? `\`await using ${c.name} = await ${c.acquire};\` and \`await using\` for the next one too.`
        : `a \`try … finally\` right after each acquire.`),
  },
  exitsBeforeTry: {
    id: "exits-before-try",
    pattern: /^`.+` \(line \d+\) leaves after `.+` but before the `try` /,
    message: (c) =>
      `\`${c.culprit}\` (line ${c.line}) leaves after \`${c.acquire}\` but before the \`try\` whose \`finally\` ` +
      `releases \`${c.name}\`: the connection leaks on that path.`,
    hint: beforeTryHint,
  },
  finallyCallback: {
    id: "finally-callback",
    pattern: /^`finally` releases `[^`]+` only inside a callback /,
    message: (c) =>
      `\`finally\` releases \`${c.name}\` only inside a callback (\`${c.release}\`, line ${c.releaseLine}), which ` +
      `may run late or never: until it does, the connection is out of the pool.`,
    hint: (c) => `Call \`${c.name}.release()\` directly in \`finally\`, not inside a callback.`,
  },
  finallyConditional: {
    id: "finally-conditional",
    pattern: /^`finally` releases `[^`]+` only on some branches /,
    message: (c) =>
      `\`finally\` releases \`${c.name}\` only on some branches (\`${c.release}\`, line ${c.releaseLine}): on the ` +
      `others the connection leaks.`,
    hint: (c) => `Release \`${c.name}\` unconditionally in \`finally\`.`,
  },
  unawaitedReturn: {
    id: "unawaited-return",
    pattern: /^`return .+` \(line \d+\) hands back a promise /,
    message: (c) =>
      `\`return ${c.culprit}\` (line ${c.line}) hands back a promise that still uses \`${c.name}\`, but ` +
      `\`${c.name}\` is released as soon as the \`return\` runs: the query runs on a connection already given back.`,
    hint: (c) => `Await it before the release: \`return await ${c.culprit};\`.`,
  },
};

/** The shape a `leak-lab/release-on-every-path` message reports, or undefined for any other message. */
export function shapeOf(message: string): LeakShape | undefined {
  return Object.values(LEAK_SHAPES).find((shape: LeakShape) => shape.pattern.test(message));
}
