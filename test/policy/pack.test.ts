import { type ChildProcess, spawn } from "node:child_process";
import { createRequire } from "node:module";
import { join } from "node:path";
import { knownProps } from "../../policy/policies";
import { RULES } from "../../policy/rules";
import { UNKNOWN } from "../../policy/rules/match";
import { ROOT } from "../helpers/plan";

/**
 * The pack as the Pulumi CLI runs it: `@pulumi/pulumi/cmd/run-policy-pack` (the CLI's Node.js
 * policy host, ts-node with type checking) in policy/, which prints the gRPC port of the analyzer;
 * then the engine's calls (GetAnalyzerInfo, Analyze, AnalyzeStack) over real gRPC.
 */
const fromPack = createRequire(require.resolve("@pulumi/policy/package.json"));
const grpc: any = fromPack("@grpc/grpc-js");
const analyzerGrpc: any = fromPack("@pulumi/pulumi/proto/analyzer_grpc_pb");
const analyzerPb: any = fromPack("@pulumi/pulumi/proto/analyzer_pb");
const { Struct }: any = fromPack("google-protobuf/google/protobuf/struct_pb");
const { Empty }: any = fromPack("google-protobuf/google/protobuf/empty_pb");

/** The wire value of an unknown string (pulumi's UnknownStringValue), as the engine sends it. */
const UNKNOWN_STRING = "04da6b54-80e4-46f7-96ec-b56ff0331ba9";

let pack: ChildProcess;
let client: any;

const call = <T>(method: string, request: unknown): Promise<T> =>
  new Promise((resolve, reject) => client[method](request, (err: Error | null, res: T) => (err ? reject(err) : resolve(res))));

function resource<T>(Type: new () => T, type: string, name: string, props: Record<string, unknown>): T {
  const r: any = new Type();
  r.setType(type);
  r.setName(name);
  r.setUrn(`urn:pulumi:prod::uaip::${type}::${name}`);
  r.setProperties(Struct.fromJavaScript(props));
  r.setOptions(new analyzerPb.AnalyzerResourceOptions()); // the engine always sends options
  return r;
}

beforeAll(async () => {
  pack = spawn(process.execPath, [join(ROOT, "node_modules/@pulumi/pulumi/cmd/run-policy-pack/index.js"), "127.0.0.1:1", "."], {
    cwd: join(ROOT, "policy"),
    stdio: ["ignore", "pipe", "pipe"],
  });
  let stderr = "";
  pack.stderr!.on("data", (d) => (stderr += d));
  const port = await new Promise<string>((resolve, reject) => {
    pack.stdout!.on("data", (d) => /^\d+\s*$/.test(String(d)) && resolve(String(d).trim()));
    pack.on("exit", (code) => reject(new Error(`policy pack exited ${code}: ${stderr}`)));
  });
  client = new analyzerGrpc.AnalyzerClient(`127.0.0.1:${port}`, grpc.credentials.createInsecure());
}, 120_000);

afterAll(() => {
  client?.close();
  pack?.kill();
});

describe("policy pack under the Pulumi CLI's policy host", () => {
  it("announces every rule with its enforcement level", async () => {
    const info: any = await call("getAnalyzerInfo", new Empty());
    expect(info.getName()).toBe("uaip-platform");
    const levels = ["advisory", "mandatory"];
    const policies = info.getPoliciesList().map((p: any) => [p.getName(), levels[p.getEnforcementlevel()]]);
    expect(policies).toEqual(RULES.map((r) => [r.name, r.enforcementLevel]));
  });

  it("Analyze reports a launch template with hop limit 2, and passes one with hop limit 1", async () => {
    const tags = { project: "uaip", environment: "prod", "managed-by": "pulumi", team: "platform" };
    const bad: any = await call(
      "analyze",
      resource(analyzerPb.AnalyzeRequest, "aws:ec2/launchTemplate:LaunchTemplate", "nodes", {
        tags,
        metadataOptions: { httpTokens: "required", httpPutResponseHopLimit: 2 },
      }),
    );
    const diagnostics = bad.getDiagnosticsList().map((d: any) => [d.getPolicyname(), d.getMessage()]);
    expect(diagnostics).toEqual([["imdsv2-hop-limit-1", expect.stringContaining("httpPutResponseHopLimit is 2; set 1")]]);
    const good: any = await call(
      "analyze",
      resource(analyzerPb.AnalyzeRequest, "aws:ec2/launchTemplate:LaunchTemplate", "nodes", {
        tags,
        metadataOptions: { httpTokens: "required", httpPutResponseHopLimit: 1 },
      }),
    );
    expect(good.getDiagnosticsList()).toEqual([]);
  });

  it.each([
    ["known", "db-pg16"],
    // How the engine sends a new group's name during preview: the rule must still run, not give up.
    ["unknown during preview", UNKNOWN_STRING],
  ])(
    "AnalyzeStack recomputes the connection budget from the resources (parameter group name %s)",
    async (_, parameterGroupName) => {
      const R = analyzerPb.AnalyzerResource;
      const resources = [
        resource(R, "aws:rds/parameterGroup:ParameterGroup", "db-params", {
          name: "db-pg16",
          parameters: [
            { name: "max_connections", value: "100" },
            { name: "rds.force_ssl", value: "1" },
          ],
        }),
        resource(R, "aws:rds/instance:Instance", "db", { engine: "postgres", parameterGroupName, storageEncrypted: true }),
        resource(R, "kubernetes:core/v1:ConfigMap", "svc-runtime", {
          metadata: { name: "svc-runtime", namespace: "uaip" },
          data: { UAIP_POOL_MAX: "10" },
        }),
        resource(R, "kubernetes:apps/v1:Deployment", "svc", {
          metadata: { name: "svc", namespace: "uaip" },
          spec: {
            template: {
              spec: { containers: [{ name: "svc", image: "svc:1.0.0", envFrom: [{ configMapRef: { name: "svc-runtime" } }] }] },
            },
          },
        }),
        resource(R, "kubernetes:autoscaling/v2:HorizontalPodAutoscaler", "svc-hpa", {
          metadata: { name: "svc", namespace: "uaip" },
          spec: { maxReplicas: 10, scaleTargetRef: { kind: "Deployment", name: "svc" } },
        }),
      ];
      const request = new analyzerPb.AnalyzeStackRequest();
      request.setResourcesList(resources);
      const res: any = await call("analyzeStack", request);
      const diagnostics = res.getDiagnosticsList().map((d: any) => [d.getPolicyname(), d.getUrn(), d.getMessage()]);
      expect(diagnostics).toEqual([
        [
          "connection-budget",
          "urn:pulumi:prod::uaip::aws:rds/parameterGroup:ParameterGroup::db-params",
          // 10 replicas and Kubernetes's default 25% surge (⌈2.5⌉ = 3): 13 pods × 10 connections.
          expect.stringContaining("pools need 130 connections"),
        ],
      ]);
    },
  );
});

describe("knownProps", () => {
  it("knows every unknown sentinel of the installed @pulumi/policy", () => {
    const proxy = fromPack("@pulumi/policy/proxy");
    const sentinels = Object.entries(proxy)
      .filter(([k]) => /^unknown\w+Value$/.test(k))
      .map(([, v]) => v as string);
    expect(sentinels).toHaveLength(7);
    expect(sentinels).toContain(UNKNOWN_STRING);
    for (const s of sentinels) expect(knownProps({ a: [{ b: s }] })).toEqual({ a: [{ b: UNKNOWN }] });
  });
});
