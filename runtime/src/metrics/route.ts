/** Route label given to every route beyond the cardinality cap. */
export const OTHER_ROUTE = "__other__";
/** Method label for anything that is not a standard HTTP method (clients can send any token). */
export const OTHER_METHOD = "OTHER";

const METHODS = new Set(["GET", "HEAD", "POST", "PUT", "DELETE", "PATCH", "OPTIONS", "CONNECT", "TRACE"]);
const NUMERIC = /^\d+$/;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
// Long hex runs with at least one digit: object ids, hashes. The digit rule keeps words like "deadbeefcafe"-free paths readable.
const HEX_ID = /^(?=[^/]*\d)[0-9a-f]{12,}$/i;

/** Standard methods pass through upper-cased; anything else becomes "OTHER". */
export function normalizeMethod(method: string | undefined): string {
  if (method === undefined) return OTHER_METHOD;
  if (METHODS.has(method)) return method;
  const upper = method.toUpperCase();
  return METHODS.has(upper) ? upper : OTHER_METHOD;
}

/**
 * Turns a raw URL into a route template: drops the query string and fragment and replaces
 * numeric, UUID and hex-id segments with ":id", e.g. "/users/42/orders/9f1c…?x=1" -> "/users/:id/orders/:id".
 */
export function normalizePath(url: string | undefined): string {
  if (!url) return "/";
  let end = url.length;
  const q = url.indexOf("?");
  if (q !== -1) end = q;
  const h = url.indexOf("#");
  if (h !== -1 && h < end) end = h;
  const path = end === url.length ? url : url.slice(0, end);
  if (path === "") return "/";
  const segments = path.split("/");
  for (let i = 0; i < segments.length; i++) {
    const s = segments[i];
    if (s !== "" && (NUMERIC.test(s) || UUID.test(s) || HEX_ID.test(s))) segments[i] = ":id";
  }
  return segments.join("/");
}

/** The path part of a URL (no query string or fragment). */
function pathOf(url: string): string {
  const q = url.indexOf("?");
  const h = url.indexOf("#");
  const end = Math.min(q === -1 ? url.length : q, h === -1 ? url.length : h);
  return end === url.length ? url : url.slice(0, end);
}

/** A declared route template: `/users/:id/orders` matches any one segment where `:id` stands. */
interface DeclaredRoute {
  template: string;
  /** Per segment: the literal, or undefined for a `:param`. */
  segments: (string | undefined)[];
}

function declare(template: string): DeclaredRoute {
  return { template, segments: template.split("/").map((s) => (s.startsWith(":") ? undefined : s)) };
}

/** Literal routes first, then fewer parameters first: "/users/me" wins over "/users/:id". */
function byParameters(routes: DeclaredRoute[]): DeclaredRoute[] {
  const params = (r: DeclaredRoute) => r.segments.filter((x) => x === undefined).length;
  return routes.sort((a, b) => params(a) - params(b));
}

/**
 * Caps the number of distinct route labels: routes declared up front always keep their name; of the
 * others, the first `maxRoutes` seen keep theirs and every later one is reported as "__other__", so a
 * scanner or an un-templated path cannot blow up the series count, nor push a declared route out.
 * Also memoises raw URL -> template, which keeps the hot path to one Map lookup.
 */
export class RouteGuard {
  #routes = new Set<string>();
  #templates = new Map<string, string>();
  #declared: DeclaredRoute[];
  readonly #declaredNames: Set<string>;
  readonly maxRoutes: number;

  constructor(maxRoutes = 100, declared: readonly string[] = []) {
    this.maxRoutes = maxRoutes;
    this.#declared = byParameters(declared.map(declare));
    this.#declaredNames = new Set(declared);
  }

  /**
   * Declares one more route template (a framework's router as it registers routes, see the Fastify
   * plugin): from now on it keeps its label whatever the cap. The URL memo is cleared, so URLs seen
   * before are matched again.
   */
  declare(template: string): void {
    if (this.#declaredNames.has(template)) return;
    this.#declaredNames.add(template);
    this.#declared = byParameters([...this.#declared, declare(template)]);
    this.#templates.clear();
  }

  /** Number of distinct undeclared route labels handed out (excluding "__other__"). */
  get size(): number {
    return this.#routes.size;
  }

  /** The label for an already-templated route (e.g. Express' req.route.path). */
  label(route: string): string {
    if (this.#declaredNames.has(route) || this.#routes.has(route)) return route;
    if (this.#routes.size >= this.maxRoutes) return OTHER_ROUTE;
    this.#routes.add(route);
    return route;
  }

  /** The label for a raw URL: the declared route it matches, else normalised, then capped. */
  labelUrl(url: string | undefined): string {
    const key = url ?? "";
    let template = this.#templates.get(key);
    if (template === undefined) {
      template = (this.#declared.length > 0 ? this.#match(pathOf(key)) : undefined) ?? normalizePath(url);
      // Bounded memo: raw URLs are unbounded (ids, query strings), templates are not.
      if (this.#templates.size >= 1_000) this.#templates.clear();
      this.#templates.set(key, template);
    }
    return this.label(template);
  }

  #match(path: string): string | undefined {
    const segments = path.split("/");
    for (const route of this.#declared) {
      if (route.segments.length !== segments.length) continue;
      let ok = true;
      for (let i = 0; i < segments.length && ok; i++) {
        const want = route.segments[i];
        ok = want === undefined ? segments[i] !== "" : want === segments[i];
      }
      if (ok) return route.template;
    }
    return undefined;
  }
}
