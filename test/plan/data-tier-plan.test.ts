import { join } from "node:path";
import { ROOT, runPlan } from "../helpers/plan";

/**
 * The data tier's scale-out modes planned offline as a user would (`npm run plan -- --stack-file`),
 * each printing its budget arithmetic; a proxy whose client limit is too small fails with the numbers.
 */
const fixture = (name: string) => join(ROOT, "test", "fixtures", "stacks", `Pulumi.${name}.yaml`);
const plan = (name: string) => runPlan(["--stack", name, "--stack-file", fixture(name)]);

const configMaps = (run: Awaited<ReturnType<typeof runPlan>>) =>
  run
    .json!.resources.filter((r) => r.type === "kubernetes:core/v1:ConfigMap" && r.name.endsWith("-runtime"))
    .map((r) => r.inputs.data as Record<string, string>);

it("cluster-mode Valkey, RDS Proxy and read replicas: plans, with every budget printed and the ConfigMaps telling the runtime", async () => {
  const run = await plan("scale-out");
  expect(run.stderr + run.stdout).not.toMatch(/Plan failed/);
  expect(run.code).toBe(0);
  for (const line of [
    /✓ proxy-client-budget: .*= 360 client connections <= proxy client limit \d+ = \d+ × database.proxy.clientsPerServerConnection 2/,
    /✓ proxy-server-budget: proxy server connections \d+ = floor\(max_connections \d+ × database.proxy.maxConnectionsPercent 80 %\)/,
    /✓ replica-budget:0: read replica 0: services\[0\] agent-intelligence: pool.max=15 × pods=8 = 120; services\[2\]/,
    /✓ replica-budget:1: read replica 1: services\[1\] orchestration-pipeline/,
    /✓ redis-topology: cluster mode: redis.shards 3 × \(1 \+ replicasPerShard 1\) = 6 nodes/,
  ])
    expect(run.stdout).toMatch(line);
  const types = run.json!.resources.map((r) => r.type);
  expect(types).toEqual(expect.arrayContaining(["aws:rds/proxy:Proxy", "aws:rds/proxyTarget:ProxyTarget"]));
  expect(types.filter((t) => t === "aws:rds/instance:Instance")).toHaveLength(3);
  const group = run.json!.resources.find((r) => r.type === "aws:elasticache/replicationGroup:ReplicationGroup")!;
  expect(group.inputs).toMatchObject({ engine: "valkey", numNodeGroups: 3, replicasPerNodeGroup: 1 });
  const maps = configMaps(run);
  expect(maps).toHaveLength(3);
  for (const data of maps) {
    expect(data.UAIP_REDIS_MODE).toBe("cluster");
    expect(data.UAIP_DB_HOST).toMatch(/\.proxy-/);
    expect(data.UAIP_DB_DIRECT_HOST).toMatch(/-db-instance\./);
    expect(data.UAIP_DB_READ_HOST).toMatch(/-db-replica-[12]\./);
  }
  expect((run.json!.violations ?? []).filter((v) => v.enforcementLevel === "mandatory")).toEqual([]);
}, 240_000);

it("ElastiCache Serverless: plans, the cache's limits printed, the runtime told to connect as a cluster client", async () => {
  const run = await plan("serverless");
  expect(run.code).toBe(0);
  expect(run.stdout).toMatch(
    /✓ redis-topology: ElastiCache Serverless valkey 8.0: data storage up to 10 GB, up to 100000 ECPU\/s .*; UAIP_REDIS_MODE=cluster/,
  );
  const cache = run.json!.resources.find((r) => r.type === "aws:elasticache/serverlessCache:ServerlessCache")!;
  expect(cache.inputs).toMatchObject({ engine: "valkey", majorEngineVersion: "8" });
  expect(run.json!.resources.some((r) => r.type === "aws:elasticache/replicationGroup:ReplicationGroup")).toBe(false);
  for (const data of configMaps(run)) expect(data.UAIP_REDIS_MODE).toBe("cluster");
}, 240_000);

it("a proxy whose client limit is below pods × pool fails the plan with the numbers and the fix", async () => {
  const run = await plan("proxy-over-limit");
  expect(run.code).toBe(1);
  const out = run.stdout + run.stderr;
  expect(out).toMatch(
    /proxy-client-budget: .*pool.max=15 × pods=8 = 120.*= 360 client connections > proxy client limit 50 = 50 × database.proxy.clientsPerServerConnection 1 \(server connections 50 = floor\(max_connections 100 × database.proxy.maxConnectionsPercent 50 %\)\)/,
  );
  expect(out).toMatch(/the proxy would make 310 of them wait up to connectionBorrowTimeout and then fail/);
}, 240_000);
