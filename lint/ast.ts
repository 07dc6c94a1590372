/**
 * Small helpers over Deno's lint AST (ESTree / TS-ESTree facade nodes). The
 * nodes are lazy facades whose properties are getters on a shared prototype,
 * so children are found by enumerating those getters.
 *
 * @module
 */

/** Any node of Deno's lint AST. */
export type Node = Deno.lint.Node;

/** A node with the child property that led to it from its parent. */
export interface Step {
  node: Node;
  key: string;
}

// Not children, or children that never hold runtime code (types, comments).
const SKIPPED_KEYS = new Set([
  "parent",
  "type",
  "range",
  "comments",
  "typeAnnotation",
  "returnType",
  "typeParameters",
  "typeArguments",
]);

const FUNCTION_TYPES = new Set(["FunctionDeclaration", "FunctionExpression", "ArrowFunctionExpression"]);

// Wrappers that do not change which value an expression is.
const TRANSPARENT_TYPES = new Set([
  "ChainExpression",
  "TSAsExpression",
  "TSSatisfiesExpression",
  "TSNonNullExpression",
  "TSTypeAssertion",
]);

function isNode(value: unknown): value is Node {
  return typeof value === "object" && value !== null && typeof (value as { type?: unknown }).type === "string" &&
    Array.isArray((value as { range?: unknown }).range);
}

/** The child nodes of `node` in source order, each with the key that holds it. */
export function children(node: Node): Step[] {
  const found: Step[] = [];
  const fields = node as unknown as Record<string, unknown>;
  for (const key in node) {
    if (SKIPPED_KEYS.has(key)) continue;
    const value = fields[key];
    if (Array.isArray(value)) {
      for (const item of value) if (isNode(item)) found.push({ node: item, key });
    } else if (isNode(value)) {
      found.push({ node: value, key });
    }
  }
  return found.sort((a, b) => a.node.range[0] - b.node.range[0]);
}

/** Whether `node` starts a function body of its own (code in it runs only when called). */
export function isFunction(node: Node): boolean {
  return FUNCTION_TYPES.has(node.type);
}

/** `node` without `?.` chains, `as`, `satisfies`, `!` and `<T>` wrappers. */
export function unwrap(node: Node): Node {
  let current = node;
  while (TRANSPARENT_TYPES.has(current.type)) current = (current as { expression: Node }).expression;
  return current;
}

/** The outermost wrapper around `node` that {@link unwrap} would see through. */
export function outermost(node: Node): Node {
  let current = node;
  for (let parent = up(current); parent && TRANSPARENT_TYPES.has(parent.type); parent = up(current)) current = parent;
  return current;
}

/** Whether two facades stand for the same node. */
export function same(a: Node | null | undefined, b: Node | null | undefined): boolean {
  return !!a && !!b && a.type === b.type && a.range[0] === b.range[0] && a.range[1] === b.range[1];
}

/**
 * Visits `root` and everything under it, depth first in source order, with the
 * path from `root`. Return `false` from `visit` to skip a node's children.
 */
export function walk(root: Node, visit: (node: Node, path: readonly Step[]) => boolean | void): void {
  const path: Step[] = [];
  const go = (step: Step) => {
    path.push(step);
    if (visit(step.node, path) !== false) { for (const child of children(step.node)) go(child); }
    path.pop();
  };
  go({ node: root, key: "" });
}

/** The innermost function around `node`, or the Program. */
export function enclosingFunction(node: Node): Node {
  let current = up(node);
  while (current && !isFunction(current) && current.type !== "Program") current = up(current);
  return current ?? node;
}

/** The name of a non-computed member `obj.name`, or undefined. */
export function memberName(node: Node): string | undefined {
  if (node.type !== "MemberExpression" || node.computed) return undefined;
  return node.property.type === "Identifier" ? node.property.name : undefined;
}

/** The 1-based line of `offset` in `text`. */
export function lineOf(text: string, offset: number): number {
  let line = 1;
  for (let i = 0; i < offset; i++) if (text.charCodeAt(i) === 10) line++;
  return line;
}

/** The parent of `node` (the Program has none). */
export function up(node: Node | null | undefined): Node | undefined {
  return node ? (node as { parent?: Node }).parent : undefined;
}
