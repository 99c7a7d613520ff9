import type { PlatformMocks } from "../../../tools/mocks";
import { promiseOf, resourcesOfType, setupMocks } from "../../helpers/pulumi";
import {
  accessLogsBucketPolicy,
  httpDefaultAction,
  listenerRulePlan,
  NOT_FOUND_ACTION,
} from "../../../components/aws/load-balancer";

const SERVICES = [
  { name: "agent-intelligence", port: 3001 },
  { name: "orchestration-pipeline", port: 3002 },
  { name: "capability-registry", port: 3003 },
];
const CERT = "arn:aws:acm:us-east-1:123456789012:certificate/0f1e2d3c-aaaa-bbbb-cccc-111122223333";

describe("load balancer pure decisions", () => {
  it("routes /<service> and /<service>/* to each service with distinct priorities", () => {
    expect(listenerRulePlan(SERVICES)).toEqual([
      { service: "agent-intelligence", priority: 100, pathPatterns: ["/agent-intelligence", "/agent-intelligence/*"] },
      {
        service: "orchestration-pipeline",
        priority: 110,
        pathPatterns: ["/orchestration-pipeline", "/orchestration-pipeline/*"],
      },
      { service: "capability-registry", priority: 120, pathPatterns: ["/capability-registry", "/capability-registry/*"] },
    ]);
  });

  it.each([
    [[], "LoadBalancerArgs.services"],
    [[{ name: "Bad_Name", port: 3001 }], "LoadBalancerArgs.services[0].name"],
    [
      [
        { name: "a", port: 3001 },
        { name: "a", port: 3002 },
      ],
      "LoadBalancerArgs.services[1].name",
    ],
    [[{ name: "a", port: 0 }], "LoadBalancerArgs.services[0].port"],
  ])("rejects bad services naming the arg (%#)", (services, key) => {
    expect(() => listenerRulePlan(services)).toThrow(expect.objectContaining({ key }));
  });

  it.each([
    [true, { type: "redirect", redirect: { protocol: "HTTPS", port: "443", statusCode: "HTTP_301" } }],
    [false, NOT_FOUND_ACTION],
  ])("HTTP default action with certificate=%s", (hasCert, action) => expect(httpDefaultAction(hasCert)).toEqual(action));

  it("lets only ELB log delivery write under the account prefix and denies plaintext", () => {
    const p = accessLogsBucketPolicy("arn:aws:s3:::logs", "123456789012", "arn:aws:iam::127311923021:root");
    expect(p.Statement.filter((s) => s.Effect === "Allow").map((s) => [s.Principal, s.Action, s.Resource])).toEqual([
      [{ AWS: "arn:aws:iam::127311923021:root" }, "s3:PutObject", "arn:aws:s3:::logs/alb/AWSLogs/123456789012/*"],
      [
        { Service: "logdelivery.elasticloadbalancing.amazonaws.com" },
        "s3:PutObject",
        "arn:aws:s3:::logs/alb/AWSLogs/123456789012/*",
      ],
    ]);
    expect(p.Statement[2]).toMatchObject({ Effect: "Deny", Condition: { Bool: { "aws:SecureTransport": "false" } } });
  });
});

describe("LoadBalancer component (mocks)", () => {
  let mocks: PlatformMocks;
  let mod: typeof import("../../../components/aws/load-balancer");
  let dev: InstanceType<typeof mod.LoadBalancer>;
  let prod: InstanceType<typeof mod.LoadBalancer>;

  beforeAll(async () => {
    mocks = setupMocks();
    mod = await import("../../../components/aws/load-balancer");
    const common = { vpcId: "vpc-1", subnetIds: ["subnet-pub-a", "subnet-pub-b"], securityGroupId: "sg-alb", services: SERVICES };
    dev = new mod.LoadBalancer("dev", { ...common, idleTimeoutSeconds: 60 });
    prod = new mod.LoadBalancer("prod", {
      ...common,
      idleTimeoutSeconds: 120,
      certificateArn: CERT,
      accessLogs: true,
      deletionProtection: true,
      deregistrationDelaySeconds: 45,
      loadBalancerName: "uaip-prod",
      originVerifyHeader: { name: "X-Origin-Verify", value: "origin-secret" },
    });
    await Promise.all([
      promiseOf(dev.dnsName),
      promiseOf(prod.dnsName),
      promiseOf(prod.listenerArns.https!),
      promiseOf(prod.accessLogsBucket!),
    ]);
    await new Promise((r) => setTimeout(r, 20));
  });

  const of = (type: string, env: string) => resourcesOfType(mocks, type).filter((r) => r.name.startsWith(`${env}-`));
  const alb = (env: string) => of("aws:lb/loadBalancer:LoadBalancer", env)[0]!.inputs;
  const listener = (env: string, port: number) => of("aws:lb/listener:Listener", env).find((l) => l.inputs.port === port)?.inputs;

  it.each([
    ["dev", 60, false, false],
    ["prod", 120, true, true],
  ])("%s: idle timeout %i, deletion protection %s, access logs %s; invalid headers dropped", (env, idle, protect, logs) => {
    expect(alb(env)).toMatchObject({
      idleTimeout: idle,
      enableDeletionProtection: protect,
      dropInvalidHeaderFields: true,
      internal: false,
      loadBalancerType: "application",
    });
    expect(alb(env).subnets).toEqual(["subnet-pub-a", "subnet-pub-b"]);
    expect(alb(env).securityGroups).toEqual(["sg-alb"]);
    expect(Boolean((alb(env).accessLogs as { enabled?: boolean } | undefined)?.enabled)).toBe(logs);
  });

  it("names target groups explicitly: <service>-<6 hex> within 32 characters, per scope and port", () => {
    const names = of("aws:lb/targetGroup:TargetGroup", "dev").map((t) => t.inputs.name as string);
    expect(names).toHaveLength(3);
    for (const n of names) expect(n).toMatch(/^[a-z-]+-[0-9a-f]{6}$/);
    expect(Math.max(...names.map((n) => n.length))).toBeLessThanOrEqual(32);
    // dev and prod are two scopes (their component names here): no shared target group name.
    const prodNames = of("aws:lb/targetGroup:TargetGroup", "prod").map((t) => t.inputs.name as string);
    expect(prodNames.filter((n) => names.includes(n))).toEqual([]);
  });

  it("requires the origin-verify header in every listener rule when given", () => {
    for (const rule of of("aws:lb/listenerRule:ListenerRule", "prod")) {
      expect(rule.inputs.conditions).toContainEqual({
        httpHeader: { httpHeaderName: "X-Origin-Verify", values: ["origin-secret"] },
      });
    }
    for (const rule of of("aws:lb/listenerRule:ListenerRule", "dev")) expect(rule.inputs.conditions).toHaveLength(1);
    expect(alb("prod").name).toBe("uaip-prod");
    expect(alb("dev").name).toBeUndefined();
  });

  it("with a certificate: HTTP redirects to HTTPS, HTTPS uses the TLS 1.3 policy and the cert, rules hang off HTTPS", () => {
    expect(listener("prod", 80)!.defaultActions).toEqual([
      { type: "redirect", redirect: { protocol: "HTTPS", port: "443", statusCode: "HTTP_301" } },
    ]);
    expect(listener("prod", 443)).toMatchObject({
      protocol: "HTTPS",
      sslPolicy: "ELBSecurityPolicy-TLS13-1-2-2021-06",
      certificateArn: CERT,
      defaultActions: [NOT_FOUND_ACTION],
    });
    for (const rule of of("aws:lb/listenerRule:ListenerRule", "prod"))
      expect(rule.inputs.listenerArn).toBe("arn:aws:lb:us-east-1:123456789012:prod-https");
  });

  it("without a certificate: only HTTP, which serves the routes itself (no redirect) and 404s the rest", () => {
    expect(listener("dev", 443)).toBeUndefined();
    expect(listener("dev", 80)!.defaultActions).toEqual([NOT_FOUND_ACTION]);
    expect(dev.listenerArns.https).toBeUndefined();
    for (const rule of of("aws:lb/listenerRule:ListenerRule", "dev"))
      expect(rule.inputs.listenerArn).toBe("arn:aws:lb:us-east-1:123456789012:dev-http");
  });

  it("creates one ip target group per service with /healthz checks and the deregistration delay", async () => {
    const tgs = of("aws:lb/targetGroup:TargetGroup", "prod");
    expect(
      tgs.map((t) => [
        t.inputs.port,
        t.inputs.targetType,
        (t.inputs.healthCheck as { path: string }).path,
        t.inputs.deregistrationDelay,
      ]),
    ).toEqual([
      [3001, "ip", "/healthz", 45],
      [3002, "ip", "/healthz", 45],
      [3003, "ip", "/healthz", 45],
    ]);
    expect(Object.keys(prod.targetGroupArns)).toEqual(SERVICES.map((s) => s.name));
    expect(await promiseOf(prod.targetGroupArns["capability-registry"]!)).toBe(
      "arn:aws:lb:us-east-1:123456789012:prod-capability-registry",
    );
    const rule = of("aws:lb/listenerRule:ListenerRule", "prod").find((r) => r.name === "prod-capability-registry")!.inputs;
    expect(rule).toMatchObject({
      priority: 120,
      conditions: [
        { pathPattern: { values: ["/capability-registry", "/capability-registry/*"] } },
        { httpHeader: { httpHeaderName: "X-Origin-Verify", values: ["origin-secret"] } },
      ],
    });
    expect(rule.actions).toEqual([
      { type: "forward", targetGroupArn: "arn:aws:lb:us-east-1:123456789012:prod-capability-registry" },
    ]);
  });

  it("logs to an SSE-encrypted, public-access-blocked bucket that only ELB log delivery may write to", () => {
    expect(of("aws:s3/bucket:Bucket", "dev")).toHaveLength(0);
    const sse = of("aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration", "prod")[0]!.inputs;
    expect(sse.rules).toEqual([{ applyServerSideEncryptionByDefault: { sseAlgorithm: "AES256" }, bucketKeyEnabled: true }]);
    expect(of("aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock", "prod")[0]!.inputs).toMatchObject({
      blockPublicAcls: true,
      blockPublicPolicy: true,
      ignorePublicAcls: true,
      restrictPublicBuckets: true,
    });
    const policy = JSON.parse(of("aws:s3/bucketPolicy:BucketPolicy", "prod")[0]!.inputs.policy as string);
    expect(policy.Statement[0].Principal).toEqual({ AWS: "arn:aws:iam::127311923021:root" });
    expect(alb("prod").accessLogs).toEqual({ bucket: "prod-access-logs", prefix: "alb", enabled: true });
  });

  it("rejects an idle timeout outside 1..4000 naming the arg", () => {
    expect(
      () =>
        new mod.LoadBalancer("bad", {
          vpcId: "v",
          subnetIds: [],
          securityGroupId: "s",
          services: SERVICES,
          idleTimeoutSeconds: 0,
        }),
    ).toThrow(expect.objectContaining({ key: "LoadBalancerArgs.idleTimeoutSeconds" }));
  });

  it("names every child prod-<role> and parents it to the component", () => {
    const children = mocks.resources.filter((r) => r.custom && r.name.startsWith("prod-"));
    expect(children.length).toBeGreaterThanOrEqual(3);
    for (const c of children) expect(c.parent.endsWith("uaip:aws:LoadBalancer::prod")).toBe(true);
  });
});
