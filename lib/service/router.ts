/**
 * A tiny router: a table of method + path pattern → handler. It tells a path
 * nobody serves (404) from a method the path does not take (405, with the
 * `Allow` header the caller needs). HEAD is served by the GET route (the app
 * drops the body), as HTTP requires of every GET resource.
 *
 * @module
 */

/** One endpoint: `path` is a URLPattern pathname such as `/api/traces/:id`. */
export interface Route<Ctx> {
  method: "GET" | "POST";
  path: string;
  handle(ctx: Ctx, params: Record<string, string>): Response | Promise<Response>;
}

/** What a request resolved to. */
export type RouteMatch<Ctx> =
  | { kind: "found"; route: Route<Ctx>; params: Record<string, string> }
  | { kind: "not-found" }
  | { kind: "wrong-method"; allow: string[] };

/** Matches requests against a fixed route table, compiled once. */
export class Router<Ctx> {
  readonly #routes: { route: Route<Ctx>; pattern: URLPattern }[];

  /** @param routes the endpoints, in no particular order */
  constructor(routes: readonly Route<Ctx>[]) {
    this.#routes = routes.map((route) => ({ route, pattern: new URLPattern({ pathname: route.path }) }));
  }

  /** Finds the route for `method` and `pathname`; HEAD finds the GET route. */
  match(method: string, pathname: string): RouteMatch<Ctx> {
    const wanted = method === "HEAD" ? "GET" : method;
    const allow: string[] = [];
    for (const { route, pattern } of this.#routes) {
      const found = pattern.exec({ pathname });
      if (!found) continue;
      if (route.method === wanted) {
        return { kind: "found", route, params: found.pathname.groups as Record<string, string> };
      }
      allow.push(...(route.method === "GET" ? ["GET", "HEAD"] : [route.method]));
    }
    return allow.length > 0 ? { kind: "wrong-method", allow } : { kind: "not-found" };
  }

  /** Every route as `METHOD /path`, for a 404 message. */
  list(): string[] {
    return this.#routes.map(({ route }) => `${route.method} ${route.path}`);
  }
}
