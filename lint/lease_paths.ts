/**
 * Follows one connection from its `await pool.acquire()` through the function
 * that took it and says which path, if any, leaves without releasing it. By
 * name and shape only: the linter has no types.
 *
 * @module
 */
import {
  children,
  enclosingFunction,
  isFunction,
  memberName,
  type Node,
  outermost,
  same,
  type Step,
  unwrap,
  up,
  walk,
} from "./ast.ts";
import { LEAK_SHAPES, type LeakShape } from "./messages.ts";

/** The two method names that hand out a connection: TracedPool's and pg's. */
export const ACQUIRE_METHODS: readonly string[] = ["acquire", "connect"];

/** What the rule found about one acquire. */
export interface Finding {
  shape: LeakShape;
  /** The node the diagnostic covers. */
  at: Node;
  /** The binding holding the connection (empty when there is none). */
  name: string;
  /** `acquire` or `connect`. */
  method: string;
  /** The code on the leaking path, when there is one to name. */
  culprit?: Node;
  /** The release the message names. */
  release?: Node;
  /** The declaration whose keyword can safely become `await using`. */
  usingFix?: Node;
  /** Code that can be moved so a `finally` covers it (lint/suggestions.ts turns it into edits). */
  move?: Move;
}

/**
 * A move that fixes the leak without changing what the code does otherwise:
 * `into-try` moves the statements between the acquire and the `try` into it;
 * `wrap` puts the statements after the acquire in a `try` whose `finally`
 * holds the one release the success path reached.
 */
export type Move =
  | { kind: "into-try"; statements: Node[]; tryStatement: Node & { type: "TryStatement" } }
  | { kind: "wrap"; statements: Node[]; release: Node };

/** `method` when `node` is `<expr>.acquire()` or `<expr>.connect()` with no arguments. */
export function acquireMethod(node: Node): string | undefined {
  const call = unwrap(node);
  if (call.type !== "CallExpression" || call.arguments.length > 0) return undefined;
  const callee = unwrap(call.callee);
  const name = memberName(callee);
  if (!name || !ACQUIRE_METHODS.includes(name)) return undefined;
  // `this.connect()`: an object connecting itself (a client, a query runner), not a pool handing one out.
  if (name === "connect" && callee.type === "MemberExpression" && unwrap(callee.object).type === "ThisExpression") {
    return undefined;
  }
  return name;
}

/** Whether the receiver of `<receiver>.connect()` is named like a pool (`pool`, `this.pgPool`, `this.#pool`). */
function poolLikeReceiver(awaited: Node): boolean {
  const call = unwrap((awaited as { argument: Node }).argument);
  if (call.type !== "CallExpression") return false;
  const callee = unwrap(call.callee);
  if (callee.type !== "MemberExpression") return false;
  let receiver = unwrap(callee.object);
  while (receiver.type === "TSNonNullExpression") receiver = unwrap(receiver);
  const name = receiver.type === "Identifier"
    ? receiver.name
    : receiver.type === "MemberExpression" && (receiver.property.type === "Identifier" ||
        receiver.property.type === "PrivateIdentifier")
    ? receiver.property.name
    : "";
  return /pool/i.test(name);
}

/** Whether one of `names` is used like a pooled client: `.query(…)`d. */
function queried(fn: Node, names: Set<string>): boolean {
  let found = false;
  walk(fn, (node) => {
    if (found) return false;
    if (node.type === "CallExpression") {
      const callee = unwrap(node.callee);
      if (memberName(callee) === "query" && callee.type === "MemberExpression" && isName(callee.object, names)) {
        found = true;
      }
    }
  });
  return found;
}

/** Marks, in a set of names, the local that holds a destructured `release` (a name no source can spell). */
const RELEASE_FUNCTION = "\0release:";

/** The local name bound to `release` in `{ release }` / `{ release: done }`, or undefined. */
function destructuredRelease(pattern: Node): string | undefined {
  if (pattern.type !== "ObjectPattern") return undefined;
  for (const property of pattern.properties as Node[]) {
    if (property.type !== "Property" || property.computed) continue;
    const key = property.key.type === "Identifier" ? property.key.name : undefined;
    const value = unwrap(property.value as Node);
    if (key === "release" && value.type === "Identifier") return value.name;
  }
  return undefined;
}

/** The name a message shows for a binding: `release` for a destructured release. */
export function shownName(name: string): string {
  return name.startsWith(RELEASE_FUNCTION) ? name.slice(RELEASE_FUNCTION.length) : name;
}

/** Analyses the connection taken by `awaited` (an `await <acquire call>`). */
export function analyseAcquire(awaited: Node, method: string): Finding | undefined {
  const expr = outermost(awaited);
  const parent = up(expr);
  if (!parent) return undefined;
  if (parent.type === "VariableDeclarator" && same(parent.init, expr)) {
    const declaration = up(parent);
    if (parent.id.type !== "Identifier") {
      // const { release } = await pool.connect(): pg-pool's release is the client's own closure, so calling it
      // releases; follow that name as the release.
      const release = destructuredRelease(parent.id);
      if (!release || declaration?.type !== "VariableDeclaration") {
        return { shape: LEAK_SHAPES.destructured, at: awaited, name: "", method };
      }
      return analyseBinding({ name: RELEASE_FUNCTION + release, method, awaited, statement: declaration, declaration });
    }
    if (declaration?.type !== "VariableDeclaration") return undefined;
    return analyseBinding({ name: parent.id.name, method, awaited, statement: declaration, declaration });
  }
  if (parent.type === "AssignmentExpression" && parent.operator === "=" && same(parent.right, expr)) {
    // Assigned to a property or to a variable of an enclosing function: handed on, not ours to follow.
    const target = unwrap(parent.left);
    const statement = up(parent);
    if (target.type !== "Identifier" || statement?.type !== "ExpressionStatement") return undefined;
    if (!declaredIn(enclosingFunction(awaited), target.name)) return undefined;
    return analyseBinding({ name: target.name, method, awaited, statement });
  }
  // pg's `await client.connect()` resolves to nothing: only a dropped `acquire()` is a leak.
  if (method !== "acquire") return undefined;
  if (parent.type === "ExpressionStatement") return { shape: LEAK_SHAPES.discarded, at: awaited, name: "", method };
  if (parent.type === "MemberExpression" && same(parent.object, expr)) {
    const releasedAtOnce = memberName(parent) === "release" && up(parent)?.type === "CallExpression";
    return releasedAtOnce ? undefined : { shape: LEAK_SHAPES.discarded, at: awaited, name: "", method };
  }
  return undefined; // returned, passed on, stored: the receiver owns it now
}

interface Binding {
  name: string;
  method: string;
  awaited: Node;
  /** The statement that takes the connection (declaration or assignment). */
  statement: Node;
  declaration?: Node & { type: "VariableDeclaration" };
}

interface Site {
  call: Node;
  nested: boolean;
  inCatch: boolean;
}

function analyseBinding(binding: Binding): Finding | undefined {
  const fn = enclosingFunction(binding.awaited);
  const names = aliasesOf(fn, binding.name);
  const { list, index } = locate(binding.statement);
  const base = { at: binding.awaited, name: binding.name, method: binding.method };
  const kind = binding.declaration?.kind;

  if (kind === "using" || kind === "await using") {
    const early = unawaitedReturn(list.slice(index + 1), names);
    return early ? { ...base, shape: LEAK_SHAPES.unawaitedReturn, at: early, culprit: early } : undefined;
  }

  const sites = releaseSites(fn, names, binding.statement.range[1]);
  // Any `.connect()` of anything: only a pool's, or one whose result is released or queried, is a checkout.
  if (binding.method === "connect" && !poolLikeReceiver(binding.awaited) && sites.length === 0 && !queried(fn, names)) {
    return undefined;
  }
  const fix = fixableDeclaration(binding, fn, names, sites);
  const leak = (shape: LeakShape, extra: Partial<Finding> = {}): Finding => ({
    ...base,
    shape,
    usingFix: fix,
    ...extra,
  });

  // 1. A `try` after the acquire whose `finally` releases it.
  for (let i = index + 1; i < list.length; i++) {
    const statement = list[i];
    if (statement.type === "TryStatement" && statement.finalizer && mentionsRelease(statement.finalizer, sites)) {
      const release = sites.find((s) => within(s.call, statement.finalizer!));
      if (!releasesOnEveryPath(statement.finalizer, names)) {
        const direct = sites.some((s) => !s.nested && within(s.call, statement.finalizer!));
        if (direct) return leak(LEAK_SHAPES.finallyConditional, { release: release?.call });
        return leak(LEAK_SHAPES.finallyCallback, { release: release?.call, usingFix: undefined });
      }
      const gap = firstRisk(list.slice(index + 1, i), names, true);
      if (gap) {
        const another = gap.node.type === "AwaitExpression" && acquireMethod(gap.node.argument);
        const shape = gap.exits
          ? LEAK_SHAPES.exitsBeforeTry
          : another
          ? LEAK_SHAPES.acquireBeforeTry
          : LEAK_SHAPES.throwsBeforeTry;
        return leak(shape, { culprit: gap.node, move: intoTry(list.slice(index + 1, i), statement) });
      }
      const early = unawaitedReturn([statement.block, ...(statement.handler ? [statement.handler] : [])], names);
      return early ? { ...base, shape: LEAK_SHAPES.unawaitedReturn, at: early, culprit: early } : undefined;
    }
    if (releasesOnEveryPath(statement, names)) break;
  }

  // 2. Taken inside a `try` whose `finally` releases it (`let conn; try { conn = await … } finally { conn?.release() }`).
  for (let node = up(binding.statement); node && !same(node, fn); node = up(node)) {
    const tryStatement = up(node);
    if (
      tryStatement?.type === "TryStatement" && same(tryStatement.block, node) && tryStatement.finalizer &&
      releasesOnEveryPath(tryStatement.finalizer, names)
    ) {
      const early = unawaitedReturn([tryStatement.block], names);
      return early ? { ...base, shape: LEAK_SHAPES.unawaitedReturn, at: early, culprit: early } : undefined;
    }
  }

  // 3. No `finally` protects it: which path leaks?
  const direct = sites.filter((s) => !s.nested);
  // A connection held at module scope is the module's, for the process lifetime (a LISTEN client, a script's one).
  if (sites.length === 0) {
    return escapes(fn, names) || fn.type === "Program" ? undefined : leak(LEAK_SHAPES.neverReleased);
  }
  if (sites.length === 1 && releasedByAwaitedFinally(list[index + 1], sites[0].call, names)) return undefined;
  if (direct.length === 0) return leak(LEAK_SHAPES.onlyInCallback, { release: sites[0].call, usingFix: undefined });
  const inCatch = direct.filter((s) => s.inCatch);
  const elsewhere = direct.filter((s) => !s.inCatch);
  // Released in `catch` when setting it up fails, handed on (returned, stored) when it succeeds: the new owner's.
  if (elsewhere.length === 0 && escapes(fn, names)) return undefined;
  if (elsewhere.length === 0) return leak(LEAK_SHAPES.onlyInCatch, { release: inCatch[0].call });
  if (inCatch.length > 0) return leak(LEAK_SHAPES.tryAndCatch, { release: elsewhere[0].call });
  const release = elsewhere[0].call;
  const outcome = straightPath(binding.statement, fn, names);
  if (outcome === "released") return undefined;
  if (outcome === "end") return leak(LEAK_SHAPES.someBranches, { release });
  return leak(outcome.exits ? LEAK_SHAPES.earlyExit : LEAK_SHAPES.onlyOnSuccess, {
    culprit: outcome.node,
    release,
    move: wrapUntilRelease(list.slice(index + 1), direct, names),
  });
}

/**
 * `return await conn.query(…).finally(() => conn.release())` (or `const rows = await …`, `await …;`, or a returned
 * chain), right after the acquire: the callback runs when the query's promise settles, on success and on failure, and
 * the caller waits for it. The one callback release that is not "late or never".
 */
function releasedByAwaitedFinally(statement: Node | undefined, release: Node, names: Set<string>): boolean {
  if (!statement) return false;
  let expr: Node | undefined;
  if (statement.type === "ReturnStatement") expr = (statement as { argument?: Node }).argument;
  else if (statement.type === "ExpressionStatement") expr = statement.expression;
  else if (statement.type === "VariableDeclaration" && (statement.declarations as Node[]).length === 1) {
    expr = ((statement.declarations as Node[])[0] as { init?: Node }).init;
  }
  if (!expr) return false;
  expr = unwrap(expr);
  // Seen through what runs only after the awaited chain: `f(await …)`, `(await …).rows`.
  for (let next: Node | undefined = expr; next && next.type !== "AwaitExpression";) {
    next = next.type === "CallExpression"
      ? (next.arguments as Node[])[0]
      : next.type === "MemberExpression"
      ? (next as { object: Node }).object
      : undefined;
    if (next?.type === "AwaitExpression") expr = next;
    else if (next) next = unwrap(next);
  }
  const awaited = expr.type === "AwaitExpression";
  if (awaited) expr = unwrap((expr as { argument: Node }).argument);
  if (!awaited && statement.type !== "ReturnStatement") return false; // a detached chain: its rejection goes nowhere
  if (expr.type !== "CallExpression") return false;
  const callee = unwrap(expr.callee);
  if (callee.type !== "MemberExpression" || memberName(callee) !== "finally") return false;
  if (unwrap(callee.object).type !== "CallExpression") return false; // a promise made right here, by a call
  const [callback] = expr.arguments as Node[];
  if (!callback || !isFunction(callback) || !within(release, callback)) return false;
  const body = (callback as { body: Node }).body;
  if (body.type !== "BlockStatement") return isRelease(body, names);
  const statements = body.body as Node[];
  return statements.length === 1 && statements[0].type === "ExpressionStatement" &&
    isRelease(statements[0].expression, names);
}

const DECLARATIONS = new Set(["FunctionDeclaration", "ClassDeclaration"]);

/** The names `statements` declare with const/let/var, or undefined when they declare a function or class. */
function declaredNames(statements: Node[]): Set<string> | undefined {
  const declared = new Set<string>();
  for (const statement of statements) {
    if (DECLARATIONS.has(statement.type)) return undefined;
    if (statement.type !== "VariableDeclaration") continue;
    for (const d of statement.declarations as Node[]) {
      walk((d as { id: Node }).id, (n) => {
        if (n.type === "Identifier") declared.add(n.name);
      });
    }
  }
  return declared;
}

/** Whether `root` reads any of `names` (a plain identifier walk: names are compared, scopes are not). */
function mentions(root: Node, names: Set<string>): boolean {
  let found = false;
  walk(root, (n) => {
    if (found) return false;
    if (n.type === "Identifier" && names.has(n.name)) found = true;
  });
  return found;
}

/** Moving the gap into the `try` is safe when nothing outside the `try` block reads what the gap declares. */
function intoTry(gap: Node[], tryStatement: Node & { type: "TryStatement" }): Move | undefined {
  const declared = declaredNames(gap);
  if (!declared || gap.length === 0) return undefined;
  const outside: Node[] = [];
  if (tryStatement.handler) outside.push(tryStatement.handler);
  if (tryStatement.finalizer) outside.push(tryStatement.finalizer);
  const { list, index } = locate(tryStatement);
  outside.push(...list.slice(index + 1));
  if (outside.some((n) => mentions(n, declared))) return undefined;
  return { kind: "into-try", statements: gap, tryStatement };
}

/**
 * Wrapping is safe when the one direct release is a plain `name.release()` statement among `rest`, and what runs
 * after it neither awaits nor uses the connection (so running it before the release changes nothing).
 */
function wrapUntilRelease(rest: Node[], direct: Site[], names: Set<string>): Move | undefined {
  if (direct.length !== 1) return undefined;
  const releaseAt = rest.findIndex((s) => s.type === "ExpressionStatement" && isRelease(s.expression, names));
  if (releaseAt < 0 || !same((rest[releaseAt] as { expression: Node }).expression, direct[0].call)) return undefined;
  const after = rest.slice(releaseAt + 1);
  if (!declaredNames(rest)) return undefined;
  const awaitsOrUses = after.some((s) => {
    let found = false;
    walk(s, (n, path) => {
      if (found || (path.length > 1 && isFunction(n))) return false;
      if (n.type === "AwaitExpression" || n.type === "YieldExpression") found = true;
    });
    return found || references(s, names);
  });
  if (awaitsOrUses) return undefined;
  return { kind: "wrap", statements: [...rest.slice(0, releaseAt), ...after], release: rest[releaseAt] };
}

/** The statement list holding `statement` and its index there. */
function locate(statement: Node): { list: Node[]; index: number } {
  let target = statement;
  const exported = up(target);
  if (exported?.type === "ExportNamedDeclaration") target = exported;
  const owner = up(target);
  // for (const conn = await pool.acquire(); …) { … }: the body runs next.
  if (owner?.type === "ForStatement" && same(owner.init, target)) return { list: [target, owner.body], index: 0 };
  const list: Node[] | undefined = owner?.type === "BlockStatement" || owner?.type === "Program" ||
      owner?.type === "StaticBlock"
    ? owner.body as Node[]
    : owner?.type === "SwitchCase"
    ? owner.consequent as Node[]
    : undefined;
  if (!list) return { list: [target], index: 0 };
  return { list, index: list.findIndex((s) => same(s, target)) };
}

function declaredIn(fn: Node, name: string): boolean {
  let found = false;
  const params = "params" in fn ? (fn.params as Node[]) : [];
  for (const param of params) {
    if (unwrap(param).type === "Identifier" && (unwrap(param) as { name: string }).name === name) found = true;
  }
  walkOwnCode(fn, (node) => {
    if (node.type === "VariableDeclarator" && node.id.type === "Identifier" && node.id.name === name) found = true;
  });
  return found;
}

/** `name` and every local that copies it (`const c = conn`), by name. */
function aliasesOf(fn: Node, name: string): Set<string> {
  const names = new Set([name]);
  let grew = true;
  while (grew) {
    grew = false;
    walk(fn, (node) => {
      let target: string | undefined;
      let source: Node | undefined | null;
      if (node.type === "VariableDeclarator" && node.id.type === "Identifier") {
        [target, source] = [node.id.name, node.init];
      }
      if (node.type === "AssignmentExpression" && node.left.type === "Identifier") {
        [target, source] = [node.left.name, node.right];
      }
      if (!target || !source || names.has(target)) return;
      const value = unwrap(source);
      if (value.type === "Identifier" && names.has(value.name)) {
        names.add(target);
        grew = true;
      }
    });
  }
  return names;
}

/** Visits the code of `fn` that runs when `fn` runs: nested functions are skipped. */
function walkOwnCode(fn: Node, visit: (node: Node, path: readonly Step[]) => boolean | void): void {
  walk(fn, (node, path) => (path.length > 1 && isFunction(node)) ? false : visit(node, path));
}

const isName = (node: Node | null | undefined, names: Set<string>): boolean => {
  if (!node) return false;
  const value = unwrap(node);
  return value.type === "Identifier" && names.has(value.name);
};

/** `<anything>.release(…)`: giving some connection back, not the work that throws. */
function isAnyRelease(node: Node): boolean {
  return node.type === "CallExpression" && memberName(unwrap(node.callee)) === "release";
}

/** Whether `node` is a call that gives one of `names` back to the pool. */
export function isRelease(node: Node, names: Set<string>): boolean {
  const call = unwrap(node);
  if (call.type !== "CallExpression") return false;
  const callee = unwrap(call.callee);
  const args = call.arguments as Node[];
  if (callee.type === "MemberExpression") {
    const method = memberName(callee);
    // conn.release(), client.release(err), conn[Symbol.asyncDispose]()
    if (isName(callee.object, names)) {
      // pg's release(), pg-promise's done()
      if (method === "release" || method === "done") return true;
      const key = unwrap(callee.property);
      const symbol = callee.computed && key.type === "MemberExpression" ? memberName(key) : undefined;
      return symbol === "dispose" || symbol === "asyncDispose";
    }
    // pool.release(conn): generic-pool style
    return (method === "release" || method === "destroy") && args.some((a) => isName(a, names));
  }
  // release() from `const { release } = await pool.connect()`
  if (callee.type === "Identifier" && names.has(RELEASE_FUNCTION + callee.name)) return true;
  // A helper named for the job: releaseQuietly(conn), dispose(conn)
  return callee.type === "Identifier" && /release|dispose/i.test(callee.name) && args.some((a) => isName(a, names));
}

function releaseSites(fn: Node, names: Set<string>, after: number): Site[] {
  const sites: Site[] = [];
  walk(fn, (node, path) => {
    if (node.range[0] < after || !isRelease(node, names)) return;
    const inner = path.slice(1, -1).map((s) => s.node);
    sites.push({
      call: node,
      nested: inner.some(isFunction),
      inCatch: inner.some((n) => n.type === "CatchClause"),
    });
    return false;
  });
  return sites;
}

function within(node: Node, outer: Node): boolean {
  return node.range[0] >= outer.range[0] && node.range[1] <= outer.range[1];
}

function mentionsRelease(block: Node, sites: Site[]): boolean {
  return sites.some((s) => within(s.call, block));
}

/** `conn`, `conn != null`, `conn !== undefined`: true whenever a connection was taken. */
function isPresenceTest(test: Node, names: Set<string>): boolean {
  const value = unwrap(test);
  if (isName(value, names)) return true;
  if (value.type !== "BinaryExpression" || (value.operator !== "!=" && value.operator !== "!==")) return false;
  const empty = (n: Node) =>
    (n.type === "Literal" && (n as { value: unknown }).value === null) ||
    (n.type === "Identifier" && n.name === "undefined");
  return (isName(value.left, names) && empty(value.right)) || (isName(value.right, names) && empty(value.left));
}

/** Whether running `statement` always releases one of `names` (on the paths that reach its end). */
function releasesOnEveryPath(statement: Node, names: Set<string>): boolean {
  switch (statement.type) {
    case "ExpressionStatement": {
      let expr = unwrap(statement.expression);
      if (expr.type === "AwaitExpression") expr = unwrap(expr.argument);
      if (expr.type === "LogicalExpression" && expr.operator === "&&" && isPresenceTest(expr.left, names)) {
        expr = unwrap(expr.right);
      }
      // await Promise.resolve(client.release()): the argument runs first, always.
      if (expr.type === "CallExpression" && !isRelease(expr, names)) {
        return (expr.arguments as Node[]).some((a) => {
          const arg = unwrap(a);
          return isRelease(arg.type === "AwaitExpression" ? arg.argument : arg, names);
        });
      }
      return isRelease(expr, names);
    }
    case "ReturnStatement": { // return releaseQuietly(conn)
      let expr = statement.argument ? unwrap(statement.argument) : undefined;
      if (expr?.type === "AwaitExpression") expr = unwrap(expr.argument);
      return !!expr && isRelease(expr, names);
    }
    case "BlockStatement":
      return (statement.body as Node[]).some((s) => releasesOnEveryPath(s, names));
    case "IfStatement":
      if (isPresenceTest(statement.test, names)) return releasesOnEveryPath(statement.consequent, names);
      return !!statement.alternate && releasesOnEveryPath(statement.consequent, names) &&
        releasesOnEveryPath(statement.alternate, names);
    case "TryStatement":
      return releasesOnEveryPath(statement.block, names) ||
        (!!statement.finalizer && releasesOnEveryPath(statement.finalizer, names));
    case "LabeledStatement":
      return releasesOnEveryPath(statement.body, names);
    default:
      return false;
  }
}

interface Risk {
  node: Node;
  exits: boolean;
}

const THROWS = new Set([
  "AwaitExpression",
  "CallExpression",
  "NewExpression",
  "TaggedTemplateExpression",
  "ThrowStatement",
  "YieldExpression",
]);
const EXITS = new Set(["ReturnStatement", "BreakStatement", "ContinueStatement"]);
const LOOPS = new Set([
  "ForStatement",
  "ForInStatement",
  "ForOfStatement",
  "WhileStatement",
  "DoWhileStatement",
  "SwitchStatement",
]);

/**
 * The first thing in `statements`, before one of `names` is released, that
 * leaves (`return`, `break`, `continue`: a sure leak) or else that can throw.
 */
function firstRisk(statements: Node[], names: Set<string>, preferAwait = false): Risk | undefined {
  const exit = firstOf(statements, names, true);
  if (exit) return exit;
  // Before a `try`, the statement that fails is nearly always the awaited one (`await client.query('BEGIN')`), not a
  // constructor or a helper before it: name that one when there is one.
  const awaited = preferAwait ? firstOf(statements, names, false, true) : undefined;
  return awaited ?? firstOf(statements, names, false);
}

function firstOf(statements: Node[], names: Set<string>, exits: boolean, awaits = false): Risk | undefined {
  for (const statement of statements) {
    // A statement that releases can still throw or leave before it gets there: look inside first.
    const risk = riskIn(statement, names, false, exits, awaits);
    if (risk) return risk;
    if (releasesOnEveryPath(statement, names)) return undefined;
  }
  return undefined;
}

function riskIn(node: Node, names: Set<string>, inLoop: boolean, exits: boolean, awaits = false): Risk | undefined {
  if (isFunction(node) || node.type === "ClassDeclaration") return undefined; // defined, not run
  if (node.type === "BlockStatement") return firstOf(node.body as Node[], names, exits, awaits);
  // Whatever happens in a `try` whose `finally` releases, the connection goes back.
  if (node.type === "TryStatement" && node.finalizer && releasesOnEveryPath(node.finalizer, names)) return undefined;
  // The release itself (`conn.release()`, `await conn[Symbol.asyncDispose]()`, `return releaseQuietly(conn)`), and
  // any other cleanup, is not where a leak starts.
  if (isRelease(node, names) || isAnyRelease(node)) return undefined;
  if (node.type === "CallExpression" && !exits && handledOrQuiet(node, names)) return undefined;
  // if (!client) return: nothing was taken on that path.
  if (node.type === "IfStatement" && isAbsenceTest(node.test, names)) return undefined;
  if ((node.type === "ExpressionStatement" || node.type === "ReturnStatement") && releasesOnEveryPath(node, names)) {
    return undefined;
  }
  if (!exits && (awaits ? node.type === "AwaitExpression" : THROWS.has(node.type))) return { node, exits: false };
  if (exits && EXITS.has(node.type)) {
    const local = (node.type === "BreakStatement" || node.type === "ContinueStatement") && inLoop && !node.label;
    if (!local) return { node, exits: true };
  }
  const loop = inLoop || LOOPS.has(node.type);
  for (const child of children(node)) {
    const risk = riskIn(child.node, names, loop, exits, awaits);
    if (risk) return risk;
  }
  return undefined;
}

// Methods of a client (an EventEmitter) that do not throw: attaching and detaching listeners.
const QUIET_METHODS = new Set([
  "on",
  "once",
  "off",
  "addListener",
  "prependListener",
  "removeListener",
  "removeAllListeners",
]);

/**
 * `<promise>.catch(handler)`: a failure is handled, not thrown (pg reports a query's errors through its promise);
 * `client.on(…)` and the other listener methods of the connection itself.
 */
function handledOrQuiet(call: Node & { type: "CallExpression" }, names: Set<string>): boolean {
  const callee = unwrap(call.callee);
  if (callee.type !== "MemberExpression") return false;
  const method = memberName(callee);
  if (method === "catch" && call.arguments.length > 0) return true;
  return !!method && QUIET_METHODS.has(method) && isName(callee.object, names);
}

/** `!conn`, `conn == null`, `conn === undefined`: true only when no connection was taken. */
function isAbsenceTest(test: Node, names: Set<string>): boolean {
  const value = unwrap(test);
  if (value.type === "UnaryExpression" && value.operator === "!") return isName(value.argument, names);
  if (value.type !== "BinaryExpression" || (value.operator !== "==" && value.operator !== "===")) return false;
  const empty = (n: Node) =>
    (n.type === "Literal" && (n as { value: unknown }).value === null) ||
    (n.type === "Identifier" && n.name === "undefined");
  return (isName(value.left, names) && empty(value.right)) || (isName(value.right, names) && empty(value.left));
}

/** From `statement` on, along the straight path out of `fn`: released, a risk first, or the end without either. */
function straightPath(statement: Node, fn: Node, names: Set<string>): "released" | "end" | Risk {
  const path: Node[] = [];
  let released = false;
  let current = statement;
  outer:
  for (;;) {
    const { list, index } = locate(current);
    for (const next of list.slice(index + 1)) {
      path.push(next);
      if (releasesOnEveryPath(next, names)) {
        released = true;
        break outer;
      }
    }
    // Out of this block: carry on after the statement that holds it (an if, a loop, a try), up to the function.
    let holder = up(current);
    if (!holder || holder.type === "Program" || same(holder, fn) || same(up(holder), fn)) break;
    for (let parent = up(holder); parent && !LIST_OWNERS.has(parent.type); parent = up(holder)) {
      if (isFunction(parent)) break outer;
      holder = parent;
    }
    if (!up(holder) || isFunction(holder)) break;
    current = holder;
  }
  return firstRisk(path, names) ?? (released ? "released" : "end");
}

const LIST_OWNERS = new Set(["BlockStatement", "Program", "SwitchCase", "StaticBlock"]);

/** A `return` in `region` of an un-awaited call that uses one of `names`. */
function unawaitedReturn(region: Node[], names: Set<string>): Node | undefined {
  let found: Node | undefined;
  for (const root of region) {
    walk(root, (node, path) => {
      if (found || (path.length > 1 && isFunction(node))) return false;
      if (node.type === "ReturnStatement" && node.argument && promiseUsing(node.argument, names)) found = node.argument;
    });
  }
  return found;
}

function promiseUsing(expr: Node, names: Set<string>): boolean {
  const value = unwrap(expr);
  if (value.type === "ConditionalExpression") {
    return promiseUsing(value.consequent, names) || promiseUsing(value.alternate, names);
  }
  if (value.type === "LogicalExpression") return promiseUsing(value.left, names) || promiseUsing(value.right, names);
  if (value.type !== "CallExpression" && value.type !== "NewExpression") return false;
  return references(value, names);
}

/** Whether `root` reads one of `names` (not counting code under an `await`, which finishes first). */
function references(root: Node, names: Set<string>): boolean {
  let found = false;
  walk(root, (node, path) => {
    if (found || node.type === "AwaitExpression") return false;
    if (node.type !== "Identifier" || !names.has(node.name)) return;
    const parent = path.at(-2);
    const key = path.at(-1)!.key;
    if (parent?.node.type === "MemberExpression" && key === "property" && !parent.node.computed) return;
    if (parent?.node.type === "Property" && key === "key" && !parent.node.computed && !parent.node.shorthand) return;
    found = true;
  });
  return found;
}

const STORING_CALLS = /^(push|unshift|set|add|resolve)$/;

/** Whether one of `names` leaves `fn`: returned, yielded, stored in an object, a property or an outer variable. */
function escapes(fn: Node, names: Set<string>): boolean {
  let found = false;
  walk(fn, (node) => {
    if (found) return false;
    if (node.type !== "Identifier" || !names.has(node.name)) return;
    const value = outermost(node);
    const parent = up(value);
    if (!parent) return;
    switch (parent.type) {
      case "ReturnStatement":
      case "YieldExpression":
      case "ArrayExpression":
      case "SpreadElement":
        found = true;
        break;
      case "ArrowFunctionExpression":
        found = same(parent.body, value);
        break;
      case "NewExpression":
        found = (parent.arguments as Node[]).some((a) => same(a, value));
        break;
      case "Property":
        found = same(parent.value, value) && up(parent)?.type === "ObjectExpression";
        break;
      case "AssignmentExpression":
        if (same(parent.right, value)) {
          const target = unwrap(parent.left);
          found = target.type !== "Identifier" || !declaredIn(fn, target.name);
        }
        break;
      case "CallExpression": {
        const callee = unwrap(parent.callee);
        const name = callee.type === "Identifier" ? callee.name : memberName(callee);
        found = !!name && STORING_CALLS.test(name) && (parent.arguments as Node[]).some((a) => same(a, value));
        break;
      }
    }
  });
  return found;
}

/**
 * The declaration whose `const`/`let` can become `await using` without changing
 * anything else the code relies on, or undefined. Safe means: a TracedPool lease
 * (`acquire()`: pg's clients are not disposable), one declarator in a block of a
 * function, never reassigned, never leaving the function (disposal at block exit
 * would release it under its new owner), and no release deferred to a callback
 * (it would run after the disposal and release twice). Releases already in the
 * code stay: a lease's disposal after `release()` does nothing.
 */
function fixableDeclaration(binding: Binding, fn: Node, names: Set<string>, sites: Site[]): Node | undefined {
  const declaration = binding.declaration;
  if (!declaration || binding.method !== "acquire") return undefined;
  if (declaration.kind !== "const" && declaration.kind !== "let") return undefined;
  if (declaration.declarations.length !== 1 || up(declaration)?.type !== "BlockStatement") return undefined;
  if (declaration.declarations[0].id.type !== "Identifier") return undefined; // `await using` takes no pattern
  if (!isFunction(fn)) return undefined;
  if (sites.some((s) => s.nested) || escapes(fn, names)) return undefined;
  let reassigned = false;
  walk(fn, (node) => {
    const target = node.type === "AssignmentExpression"
      ? unwrap(node.left)
      : node.type === "UpdateExpression"
      ? unwrap(node.argument)
      : undefined;
    if (target?.type === "Identifier" && target.name === binding.name) reassigned = true;
  });
  return reassigned ? undefined : declaration;
}
