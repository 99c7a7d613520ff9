import { normalizeMethod, normalizePath, OTHER_ROUTE, RouteGuard } from "../../src/metrics/route";

describe("route normalisation", () => {
  it.each([
    ["/users/42", "/users/:id"],
    ["/users/42/orders/7?expand=items", "/users/:id/orders/:id"],
    ["/items/3f2c1e0a-9b8d-4c7e-a6f5-0123456789ab", "/items/:id"],
    ["/objects/507f1f77bcf86cd799439011", "/objects/:id"],
    ["/health", "/health"],
    ["/static/cafe", "/static/cafe"], // short hex-looking word stays
    ["/v2/search", "/v2/search"],
    ["/a/b/#frag", "/a/b/"],
    ["?x=1", "/"],
    ["", "/"],
    [undefined, "/"],
  ])("%s -> %s", (url, route) => {
    expect(normalizePath(url)).toBe(route);
  });

  it.each([
    ["GET", "GET"],
    ["get", "GET"],
    ["PROPFIND", "OTHER"],
    [undefined, "OTHER"],
  ])("method %s -> %s", (method, label) => {
    expect(normalizeMethod(method)).toBe(label);
  });
});

describe("cardinality guard", () => {
  it("keeps the first maxRoutes routes and reports every later one as __other__", () => {
    const guard = new RouteGuard(3);
    expect(["/a", "/b", "/c"].map((r) => guard.label(r))).toEqual(["/a", "/b", "/c"]);
    expect(guard.label("/d")).toBe(OTHER_ROUTE);
    expect(guard.label("/a")).toBe("/a"); // known routes keep their label
    expect(guard.size).toBe(3);
  });

  it("counts templates, not raw URLs: ids never consume the budget", () => {
    const guard = new RouteGuard(2);
    for (let i = 0; i < 500; i++) expect(guard.labelUrl(`/users/${i}?page=${i}`)).toBe("/users/:id");
    expect(guard.labelUrl("/health")).toBe("/health");
    expect(guard.labelUrl("/scanner/wp-admin.php")).toBe(OTHER_ROUTE);
    expect(guard.size).toBe(2);
  });
});
