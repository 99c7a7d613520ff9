import { checkPodEnv } from "../../../../tools/checks/k8s/pod-env";
import type { PlanResource } from "../../../../tools/checks/k8s/plan-resource";

/** A ConfigMap and the Deployment that loads it, as the plan records them. */
function plan(data: Record<string, string>, nodeOptions = "--max-old-space-size=384"): PlanResource[] {
  const base = { parent: "", dependsOn: [] };
  return [
    {
      ...base,
      urn: "urn:cm",
      type: "kubernetes:core/v1:ConfigMap",
      name: "svc-config",
      inputs: { metadata: { name: "svc-config", namespace: "uaip" }, data },
    },
    {
      ...base,
      urn: "urn:deploy",
      type: "kubernetes:apps/v1:Deployment",
      name: "svc",
      inputs: {
        metadata: { name: "svc", namespace: "uaip" },
        spec: {
          template: {
            spec: {
              containers: [
                {
                  name: "svc",
                  envFrom: [{ configMapRef: { name: "svc-config" } }, { secretRef: { name: "svc-secret" } }],
                  env: [{ name: "NODE_OPTIONS", value: nodeOptions }],
                },
              ],
            },
          },
        },
      },
    },
  ];
}

describe("pod-env: the runtime's loader over each pod's ConfigMap, with its heap", () => {
  it("a good env passes", () => {
    expect(checkPodEnv(plan({ UAIP_SERVICE_NAME: "svc", UAIP_CACHE_MEMORY_MAX_SIZE: "10000" }))).toMatchObject({ ok: true });
  });

  it.each([
    [{ UAIP_CACHE_MEMORY_MAX_SIZE: "50000000" }, "UAIP_CACHE_MEMORY_MAX_SIZE", '"50000000"'],
    [{ UAIP_TRUSTED_PROXY_CIDRS: "999.999.999.999/99" }, "UAIP_TRUSTED_PROXY_CIDRS", "999.999.999.999/99"],
    [{ UAIP_DB_STATS_REFRESH_INTERVAL_MS: "4294967296" }, "UAIP_DB_STATS_REFRESH_INTERVAL_MS", '"4294967296"'],
    [
      { UAIP_WS_RECONNECT_INITIAL_DELAY_MS: "60000", UAIP_WS_RECONNECT_MAX_DELAY_MS: "1000" },
      "UAIP_WS_RECONNECT_MAX_DELAY_MS",
      '"1000"',
    ],
    [{ UAIP_DB_POOL_MAX: "40" }, "UAIP_DB_POOL_MAX", "did you mean UAIP_POOL_MAX?"],
  ])("%j fails, naming the workload, the variable and its value", (data, key, shown) => {
    const check = checkPodEnv(plan({ UAIP_SERVICE_NAME: "svc", ...data }));
    expect(check.ok).toBe(false);
    expect(check.detail).toContain(`Deployment "svc" container svc: ${key}:`);
    expect(check.detail).toContain(shown);
  });

  it("the heap comes from the pod's NODE_OPTIONS: the same cache fits a larger heap", () => {
    const data = { UAIP_CACHE_MEMORY_MAX_SIZE: "2000000" };
    expect(checkPodEnv(plan(data, "--max-old-space-size=384")).ok).toBe(false);
    expect(checkPodEnv(plan(data, "--max-old-space-size=768")).ok).toBe(true);
  });
});
