import fc from "fast-check";
import { pathOwnershipIssues, POD_OWNED_PATHS } from "../../profile/path-ownership";

const service = (name: string) => ({ name, port: 3001 }) as never;
const issuesFor = (name: string, staticPaths: string[]) =>
  pathOwnershipIssues({ services: [service(name)], cdn: { staticPaths } as never });

describe("path ownership (properties)", () => {
  const name = fc.stringMatching(/^[a-z][a-z0-9-]{0,20}$/).filter((n) => !POD_OWNED_PATHS.some((p) => p.split("/")[1] === n));

  it("a static pattern that adds only wildcards and slashes to a service prefix covers its whole API: refused", () => {
    fc.assert(
      fc.property(name, fc.stringMatching(/^[*?/]{0,6}$/), (svc, rest) => {
        const issues = issuesFor(svc, [`/${svc}/${rest}`]);
        expect(issues.map((i) => i.path)).toEqual(["cdn.staticPaths[0]"]);
        expect(issues[0]!.message).toContain(`/${svc}/${rest}`);
      }),
    );
  });

  it("a pattern with any literal part after the prefix is a strict part of it: accepted", () => {
    fc.assert(
      fc.property(name, fc.stringMatching(/^[*/]{0,3}[a-z0-9._-]{1,8}[*/]{0,3}$/), (svc, rest) => {
        expect(issuesFor(svc, [`/${svc}/${rest}`])).toEqual([]);
      }),
    );
  });

  it("every pod-owned path's first segment is refused as a service name; other names are not", () => {
    for (const path of POD_OWNED_PATHS) {
      const segment = path.split("/")[1]!;
      expect(issuesFor(segment, []).map((i) => i.path)).toEqual(["services[0].name"]);
    }
    fc.assert(fc.property(name, (svc) => expect(issuesFor(svc, [])).toEqual([])));
  });
});

describe("path ownership (several services, the messages)", () => {
  const services = (...names: string[]) => names.map(service);

  it("a reserved name's issue is on that service's index and names the path it would route publicly", () => {
    for (const path of POD_OWNED_PATHS) {
      const segment = path.split("/")[1]!;
      const issues = pathOwnershipIssues({ services: services("web", segment), cdn: { staticPaths: [] } as never });
      expect(issues).toEqual([
        {
          path: "services[1].name",
          message: `${JSON.stringify(segment)} would route ${path} (every pod's own endpoint) publicly through the ALB as this service's API; pick another name`,
        },
      ]);
    }
  });

  it("each static pattern is judged against the service it is under (not a service whose name is a prefix of it), by index", () => {
    const staticPaths = ["/assets/*", "/api-v2/*", "/web/static/*", "/web/**", "/api/x", "/api"];
    const issues = pathOwnershipIssues({ services: services("api", "api-v2", "web"), cdn: { staticPaths } as never });
    const whole = (pattern: string, owner: string) =>
      `${JSON.stringify(pattern)} covers the whole API of ${owner} (/${owner}/*), which would be cached as static (POST refused, one user's GET served to everyone); give a part of it, e.g. "/${owner}/static/*"`;
    expect(issues).toEqual([
      { path: "cdn.staticPaths[1]", message: whole("/api-v2/*", "api-v2") },
      { path: "cdn.staticPaths[3]", message: whole("/web/**", "web") },
    ]);
  });
});
