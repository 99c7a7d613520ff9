/**
 * connection-budget (policy/rules/connection-budget.ts) at its edges (issue #22): the budget exactly full passes and
 * one connection more fails, and each way a pool size or replica count reaches a workload is read, or not, on its own.
 * The expected budget is written out from the numbers in the resources (max_connections − 3 − 2 reserved by default).
 */
import type { PlannedResource } from "../../policy/rules";
import { connectionBudget, poolUsers } from "../../policy/rules/connection-budget";

const r = (type: string, name: string, props: Record<string, any>): PlannedResource => ({
  type,
  name,
  urn: `urn:pulumi:t::uaip::${type}::${name}`,
  props,
});
const group = (params: Record<string, string>) =>
  r("aws:rds/parameterGroup:ParameterGroup", "db-params", {
    name: "pg",
    parameters: Object.entries(params).map(([name, value]) => ({ name, value })),
  });
const instance = (props: Record<string, any> = {}) =>
  r("aws:rds/instance:Instance", "db", { engine: "postgres", parameterGroupName: "pg", ...props });
const configMap = (data: Record<string, string>, name = "svc-runtime", namespace = "uaip") =>
  r("kubernetes:core/v1:ConfigMap", name, { metadata: { name, namespace }, data });
const workload = (container: Record<string, any>, spec: Record<string, any> = {}, kind = "Deployment", namespace = "uaip") =>
  r(`kubernetes:apps/v1:${kind}`, `svc-${kind}`, {
    metadata: { name: "svc", namespace },
    spec: { ...spec, template: { spec: { containers: [{ name: "svc", ...container }] } } },
  });
const fromConfigMap = { envFrom: [{ configMapRef: { name: "svc-runtime" } }] };
const hpa = (maxReplicas: number, kind = "Deployment", namespace = "uaip") =>
  r("kubernetes:autoscaling/v2:HorizontalPodAutoscaler", "svc-hpa", {
    metadata: { name: "svc", namespace },
    spec: { maxReplicas, scaleTargetRef: { kind, name: "svc" } },
  });
const pools = (resources: PlannedResource[]) =>
  poolUsers(resources).map((u) => [u.poolMax, u.maxReplicas, u.replicasFrom, u.configMap]);

describe("connection-budget: the budget's edge", () => {
  const maxConnections = 100;
  const available = maxConnections - 3 - 2; // PostgreSQL's and RDS's superuser reservations by default

  it("pools that use exactly what is available pass; one connection more is caught, with both sums", () => {
    const at = (poolMax: number, replicas: number) =>
      connectionBudget.check([
        group({ max_connections: String(maxConnections) }),
        instance(),
        configMap({ UAIP_POOL_MAX: String(poolMax) }),
        workload(fromConfigMap),
        hpa(replicas),
      ]);
    expect(at(19, 4)).toEqual([]); // 19 × 5 pods (4 + maxSurge 25%) = 95 = available
    const over = at(24, 3); // 24 × 4 pods (3 + maxSurge 25%) = 96
    expect(over).toHaveLength(1);
    expect(over[0].message).toContain(`pools need 96 connections`);
    expect(over[0].message).toContain(`> ${available} available`);
    expect(over[0].resource?.name).toBe("db-params");
  });

  it("reservations the parameter group sets replace the defaults", () => {
    const resources = (reserved: string) => [
      group({ max_connections: "100", superuser_reserved_connections: reserved, "rds.rds_superuser_reserved_connections": "0" }),
      instance(),
      configMap({ UAIP_POOL_MAX: "10" }),
      workload(fromConfigMap),
      hpa(7),
    ];
    // 10 × 9 pods (7 + maxSurge 25%) = 90
    expect(connectionBudget.check(resources("10"))).toEqual([]); // 90 <= 100 - 10 - 0
    expect(connectionBudget.check(resources("11"))).toHaveLength(1); // 90 > 89
  });

  it("max_connections unset, zero or not a number is reported: the budget would depend on instance memory", () => {
    const base = [configMap({ UAIP_POOL_MAX: "1" }), workload(fromConfigMap)];
    for (const params of <Record<string, string>[]>[
      {},
      { max_connections: "0" },
      { max_connections: "-5" },
      { max_connections: "LEAST({DBInstanceClassMemory/9531392},5000)" },
    ]) {
      const findings = connectionBudget.check([group(params), instance(), ...base]);
      expect(findings.map((f) => f.message)).toEqual([expect.stringContaining("does not set max_connections")]);
    }
    expect(connectionBudget.check([group({ max_connections: "1" }), instance(), ...base])[0].message).toContain(
      "pools need 2 connections", // 1 × 2 pods (1 replica + maxSurge 25%)
    );
  });

  it("only PostgreSQL instances are budgeted, and nothing is when no workload opens a pool", () => {
    const full = [group({ max_connections: "6" }), configMap({ UAIP_POOL_MAX: "2" }), workload(fromConfigMap)];
    expect(connectionBudget.check([...full, instance({ engine: "mysql" })])).toEqual([]);
    expect(connectionBudget.check([...full, instance({ engine: undefined })])).toEqual([]);
    expect(connectionBudget.check([...full, instance({ engine: "postgres" })])).toHaveLength(1); // 2 > 6 - 5
    expect(connectionBudget.check([group({}), instance()])).toEqual([]);
  });
});

describe("connection-budget: where a pool size and a replica count come from", () => {
  it("a literal env value, a configMapKeyRef, or the ConfigMap of envFrom (without a prefix)", () => {
    expect(
      pools([
        workload({
          env: [
            { name: "OTHER", value: "1" },
            { name: "UAIP_POOL_MAX", value: "7" },
          ],
        }),
      ]),
    ).toEqual([[7, 1, "replicas", "(env)"]]);
    const keyRef = { env: [{ name: "UAIP_POOL_MAX", valueFrom: { configMapKeyRef: { name: "svc-runtime", key: "POOL" } } }] };
    expect(pools([configMap({ POOL: "6" }), workload(keyRef)])).toEqual([[6, 1, "replicas", "svc-runtime"]]);
    expect(pools([configMap({ OTHER: "6" }), workload(keyRef)])).toEqual([]); // the key is not there
    expect(pools([configMap({ UAIP_POOL_MAX: "5" }), workload(fromConfigMap)])).toEqual([[5, 1, "replicas", "svc-runtime"]]);
    // With a prefix the container sees APP_UAIP_POOL_MAX, not the pool size.
    expect(
      pools([
        configMap({ UAIP_POOL_MAX: "5" }),
        workload({ envFrom: [{ prefix: "APP_", configMapRef: { name: "svc-runtime" } }] }),
      ]),
    ).toEqual([]);
  });

  it("a ConfigMap counts only in its own namespace; no namespace is `default`", () => {
    expect(pools([configMap({ UAIP_POOL_MAX: "5" }, "svc-runtime", "other"), workload(fromConfigMap)])).toEqual([]);
    const defaultMap = r("kubernetes:core/v1:ConfigMap", "svc-runtime", {
      metadata: { name: "svc-runtime" },
      data: { UAIP_POOL_MAX: "4" },
    });
    const defaultWorkload = r("kubernetes:apps/v1:Deployment", "svc", {
      metadata: { name: "svc" },
      spec: { template: { spec: { containers: [fromConfigMap] } } },
    });
    expect(pools([defaultMap, defaultWorkload])).toEqual([[4, 1, "replicas", "svc-runtime"]]);
  });

  it("replicas: the HPA's max for its own kind and namespace, else spec.replicas, else 1; StatefulSets count", () => {
    const map = configMap({ UAIP_POOL_MAX: "2" });
    expect(pools([map, workload(fromConfigMap, { replicas: 3 })])).toEqual([[2, 3, "replicas", "svc-runtime"]]);
    expect(pools([map, workload(fromConfigMap), hpa(8)])).toEqual([[2, 8, "HPA svc maxReplicas", "svc-runtime"]]);
    expect(pools([map, workload(fromConfigMap, { replicas: 3 }), hpa(8, "StatefulSet")])).toEqual([
      [2, 3, "replicas", "svc-runtime"],
    ]);
    expect(pools([map, workload(fromConfigMap, {}, "StatefulSet"), hpa(8, "StatefulSet")])).toEqual([
      [2, 8, "HPA svc maxReplicas", "svc-runtime"],
    ]);
    expect(pools([map, workload(fromConfigMap), hpa(8, "Deployment", "other")])).toEqual([[2, 1, "replicas", "svc-runtime"]]);
    expect(pools([map, r("kubernetes:apps/v1:DaemonSet", "ds", workload(fromConfigMap).props)])).toEqual([]);
  });
});

describe("connection-budget: partial manifests and references to nothing", () => {
  it("a workload without spec, template, pod spec or containers opens no pool, and the rule still runs", () => {
    const map = configMap({ UAIP_POOL_MAX: "2" });
    for (const props of [
      {},
      { spec: {} },
      { spec: { template: {} } },
      { spec: { template: { spec: {} } } },
      { spec: null },
      { spec: { template: null } },
    ])
      expect(pools([map, r("kubernetes:apps/v1:Deployment", "bare", { metadata: { name: "bare" }, ...props })])).toEqual([]);
  });

  it("a pool-size env entry with neither value nor valueFrom, or pointing at a ConfigMap that is not there, is no pool", () => {
    const map = configMap({ UAIP_POOL_MAX: "2" });
    for (const entry of [
      { name: "UAIP_POOL_MAX" },
      { name: "UAIP_POOL_MAX", valueFrom: {} },
      { name: "UAIP_POOL_MAX", valueFrom: { configMapKeyRef: { name: "missing", key: "UAIP_POOL_MAX" } } },
    ])
      expect(pools([map, workload({ env: [entry] })])).toEqual([]);
    // The entry after it still counts.
    expect(pools([map, workload({ env: [{ name: "UAIP_POOL_MAX" }, { name: "UAIP_POOL_MAX", value: "5" }] })])).toEqual([
      [5, 1, "replicas", "(env)"],
    ]);
  });

  it("an instance whose parameter group is not in the stack is told to set max_connections, not a crash", () => {
    const findings = connectionBudget.check([
      instance({ parameterGroupName: "elsewhere" }),
      group({ max_connections: "100" }),
      configMap({ UAIP_POOL_MAX: "2" }),
      workload(fromConfigMap),
    ]);
    expect(findings.map((f) => [f.resource?.name, f.message.includes("does not set max_connections")])).toEqual([["db", true]]);
  });
});
