import fc from "fast-check";
import type { PlanResource } from "../../../tools/checks/k8s/plan-resource";
import { toDot, dotString } from "../../../tools/graph/dot";
import { architectureGraph, TRAFFIC_PATH, type ArchitectureGraph } from "../../../tools/graph/model";
import { dotToSvg } from "../../../tools/graph/render";

/** A small plan shaped like the AWS stack's: CDN → ALB → two services → Redis / RDS, plus supporting resources. */
const urn = (type: string, name: string) => `urn:pulumi:t::uaip::${type}::${name}`;
function res(type: string, name: string, parent: string, dependsOn: string[] = []): PlanResource {
  return { urn: urn(type, name), type, name, parent, dependsOn, inputs: {} };
}
function smallPlan(extraInSecondService = false): PlanResource[] {
  const stack = res("pulumi:pulumi:Stack", "uaip-t", "");
  const platform = res("uaip:aws:AwsPlatform", "uaip", stack.urn);
  const cdn = res("uaip:aws:Cdn", "uaip-cdn", platform.urn);
  const lb = res("uaip:aws:LoadBalancer", "uaip-alb", platform.urn);
  const redis = res("uaip:aws:Redis", "uaip-redis", platform.urn);
  const db = res("uaip:aws:Database", "uaip-db", platform.urn);
  const services = res("uaip:k8s:Services", "uaip-services", platform.urn);
  const tgs = ["a", "b"].map((s) => res("aws:lb/targetGroup:TargetGroup", `uaip-alb-${s}`, lb.urn));
  const out = [
    stack,
    platform,
    cdn,
    lb,
    redis,
    db,
    services,
    res("aws:cloudfront/distribution:Distribution", "uaip-cdn-distribution", cdn.urn),
    res("aws:cloudfront/cachePolicy:CachePolicy", "uaip-cdn-api", cdn.urn),
    res("aws:lb/loadBalancer:LoadBalancer", "uaip-alb-alb", lb.urn),
    ...tgs,
    res("aws:iam/role:Role", "uaip-alb-role", lb.urn),
    res("aws:elasticache/replicationGroup:ReplicationGroup", "uaip-redis-group", redis.urn),
    res("aws:rds/instance:Instance", "uaip-db-instance", db.urn),
    res("aws:rds/parameterGroup:ParameterGroup", "uaip-db-params", db.urn),
  ];
  for (const [i, s] of ["a", "b"].entries()) {
    const svc = res("uaip:k8s:UaipService", `uaip-services-${s}`, services.urn);
    const k8sService = res("kubernetes:core/v1:Service", `uaip-services-${s}-service`, svc.urn);
    out.push(
      svc,
      k8sService,
      res("kubernetes:apps/v1:Deployment", `uaip-services-${s}-deployment`, svc.urn),
      res("kubernetes:core/v1:ConfigMap", `uaip-services-${s}-runtime`, svc.urn),
      res("kubernetes:elbv2.k8s.aws/v1beta1:TargetGroupBinding", `uaip-services-${s}-tgb`, svc.urn, [tgs[i].urn, k8sService.urn]),
    );
    if (extraInSecondService && s === "b") out.push(res("kubernetes:core/v1:Secret", `uaip-services-${s}-extra`, svc.urn));
  }
  return out;
}

const labelOf = (g: ArchitectureGraph, id: string) => g.nodes.find((n) => n.id === id)!.label;

describe("architecture graph from a plan", () => {
  it("draws each service's identical component once, its resources as '×2'", () => {
    const g = architectureGraph(smallPlan(), { title: "t" });
    const merged = g.clusters.filter((c) => c.label.startsWith("UaipService ×2"));
    expect(merged).toHaveLength(1);
    expect(merged[0].label).toContain("\na\nb");
    expect(g.nodes.filter((n) => n.cluster === merged[0].id).map((n) => n.label.split("\n")[0])).toEqual(
      expect.arrayContaining(["Service ×2", "Deployment ×2", "TargetGroupBinding ×2", "+2 supporting"]),
    );
  });

  it("keeps components apart when one holds a resource the other does not", () => {
    const g = architectureGraph(smallPlan(true), { title: "t" });
    expect(g.clusters.filter((c) => c.label.startsWith("UaipService"))).toHaveLength(2);
  });

  it("follows the request path, one hop at a time, and nothing else in blue", () => {
    const g = architectureGraph(smallPlan(), { title: "t" });
    const traffic = g.edges
      .filter((e) => e.kind === "traffic")
      .map((e) => [labelOf(g, e.from).split(/[\n ]/)[0], labelOf(g, e.to).split(/[\n ]/)[0]]);
    expect(traffic).toEqual([
      ["Distribution", "LoadBalancer"],
      ["LoadBalancer", "TargetGroup"],
      ["TargetGroup", "TargetGroupBinding"],
      ["TargetGroupBinding", "Service"],
      ["Service", "Deployment"],
      ["Deployment", "ReplicationGroup"],
      ["Deployment", "Instance"],
    ]);
    expect(TRAFFIC_PATH).toHaveLength(traffic.length);
  });

  it("puts every resource in exactly one node, and every edge between drawn nodes, for any plan", () => {
    const types = [
      "aws:iam/role:Role",
      "aws:lb/targetGroup:TargetGroup",
      "kubernetes:apps/v1:Deployment",
      "kubernetes:core/v1:ConfigMap",
      "aws:rds/instance:Instance",
      "aws:ec2/subnet:Subnet",
    ];
    const plan = fc
      .array(fc.record({ type: fc.constantFrom(...types), component: fc.nat(3), dep: fc.option(fc.nat(30)) }), { maxLength: 30 })
      .map((rows) => {
        const stack = res("pulumi:pulumi:Stack", "s", "");
        const platform = res("uaip:aws:AwsPlatform", "uaip", stack.urn);
        const components = [0, 1, 2, 3].map((i) => res(`uaip:aws:C${i % 2}`, `c${i}`, platform.urn));
        const leaves = rows.map((r, i) => res(r.type, `r${i}`, components[r.component].urn));
        rows.forEach((r, i) => {
          if (r.dep !== null && leaves[r.dep % leaves.length] !== leaves[i])
            leaves[i].dependsOn.push(leaves[r.dep % leaves.length].urn);
        });
        return { all: [stack, platform, ...components, ...leaves], leaves };
      });
    fc.assert(
      fc.property(plan, ({ all, leaves }) => {
        const g = architectureGraph(all, { title: "t" });
        const drawn = g.nodes.flatMap((n) => n.urns);
        expect(drawn.sort()).toEqual(leaves.map((l) => l.urn).sort());
        const ids = new Set(g.nodes.map((n) => n.id));
        for (const e of g.edges) expect(ids.has(e.from) && ids.has(e.to) && e.from !== e.to).toBe(true);
        const clusters = new Set(g.clusters.map((c) => c.id));
        for (const n of g.nodes) expect(clusters.has(n.cluster)).toBe(true);
      }),
    );
  });

  it("marks a changed resource's node with the most severe change among those it stands for", () => {
    const plan = smallPlan();
    const deployments = plan.filter((r) => r.type === "kubernetes:apps/v1:Deployment");
    const g = architectureGraph(plan, {
      title: "t",
      changes: new Map([
        [deployments[0].urn, "updated"],
        [deployments[1].urn, "replaced"],
      ]),
      removed: ["old-queue (Queue)"],
    });
    const changed = g.nodes.filter((n) => n.change);
    expect(changed.map((n) => [n.label, n.change])).toEqual([["Deployment ×2", "replaced"]]);
    expect(toDot(g)).toContain("removed: old-queue (Queue)");
    // A changed supporting resource leaves its bundle: the reviewer sees which one changed.
    const params = plan.find((r) => r.type === "aws:rds/parameterGroup:ParameterGroup")!;
    const h = architectureGraph(plan, { title: "t", changes: new Map([[params.urn, "replaced"]]) });
    expect(h.nodes.find((n) => n.urns.includes(params.urn))).toMatchObject({
      label: "ParameterGroup\nparams",
      change: "replaced",
      collapsed: false,
    });
  });
});

describe("DOT and SVG", () => {
  it("escapes quotes, backslashes and newlines in labels", () => {
    expect(dotString('a "b" \\ c\nd')).toBe('"a \\"b\\" \\\\ c\\nd"');
  });

  it("renders with Graphviz (WebAssembly) to an SVG with the components, the resources and the legend", async () => {
    const svg = await dotToSvg(toDot(architectureGraph(smallPlan(), { title: "UAIP t" })));
    expect(svg).toMatch(/^<\?xml|^<svg|<!DOCTYPE svg/);
    for (const text of ["UAIP t", "LoadBalancer", "UaipService ×2", "Deployment ×2", "request path", "waits for"])
      expect(svg).toContain(text);
  });
});
