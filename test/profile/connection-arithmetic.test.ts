import fc from "fast-check";
import {
  connectionArithmetic,
  MIGRATION_JOB_CONNECTIONS,
  ROLLOUT_MAX_SURGE,
  rolloutPods,
  serviceConnectionLimit,
  surgePods,
} from "../../profile/connection-arithmetic";
import { deploymentManifest, workloadNames } from "../../components/k8s/workload-spec";
import { serviceRuntimeSettings } from "../../profile/service-settings";
import { parseConfig } from "../../profile/parse";

describe("pods during a rollout: Kubernetes's maxSurge rounding", () => {
  it("property: a percentage surge is the smallest whole number of pods ≥ replicas × percent / 100", () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 10_000 }), fc.integer({ min: 0, max: 1000 }), (replicas, percent) => {
        // Integer ceiling division, independent of floating point: ⌈a / b⌉ = ⌊(a + b − 1) / b⌋.
        const expected = Math.floor((replicas * percent + 99) / 100);
        expect(surgePods(replicas, `${percent}%`)).toBe(expected);
        expect(rolloutPods(replicas, `${percent}%`)).toBe(replicas + expected);
        // At or above the exact value, never a pod short, never a pod more.
        expect(expected * 100).toBeGreaterThanOrEqual(replicas * percent);
        expect((expected - 1) * 100).toBeLessThan(replicas * percent);
      }),
    );
  });

  it.each([
    [3, 4], // 0.75 -> 1
    [4, 5], // exactly 1
    [5, 7], // 1.25 -> 2
    [10, 13], // 2.5 -> 3
    [1, 2],
  ])("hpa.max %i with the services' 25%% surge -> %i pods", (replicas, pods) => {
    expect(rolloutPods(replicas)).toBe(pods);
    expect(serviceConnectionLimit(7, replicas)).toBe(7 * pods);
  });

  it.each([[2], [0]])("a whole number surge adds exactly %i pods", (n) => expect(rolloutPods(6, n)).toBe(6 + n));

  it.each([["1.5"], ["25"], ["12.5%"], [-1], [1.5], ["%"]])("maxSurge %j is refused by name", (bad) => {
    expect(surgePods(4, bad)).toBeUndefined();
    expect(() => rolloutPods(4, bad)).toThrow(/maxSurge .*expected a whole number or a whole percentage/);
  });

  it("the Deployments roll with the surge the budget counts (one constant)", () => {
    const p = parseConfig({ environment: "dev" });
    const service = p.services[0];
    const d = deploymentManifest({
      names: workloadNames(service.name, "uaip"),
      service,
      runtime: serviceRuntimeSettings(p, service),
      image: "img:1",
      deregistrationDelaySeconds: 30,
    });
    expect((d.spec as { strategy?: unknown }).strategy).toEqual({
      type: "RollingUpdate",
      rollingUpdate: { maxSurge: ROLLOUT_MAX_SURGE, maxUnavailable: 0 },
    });
  });
});

describe("connectionArithmetic", () => {
  it("property: the other clients take from what the pools may use; ok is pooled ≤ max − server − ops − others, boundary included", () => {
    fc.assert(
      fc.property(
        fc.array(fc.record({ poolMax: fc.integer({ min: 1, max: 50 }), replicas: fc.integer({ min: 1, max: 20 }) }), {
          minLength: 1,
          maxLength: 4,
        }),
        fc.integer({ min: 0, max: 50 }),
        fc.integer({ min: 0, max: 3 }),
        fc.integer({ min: -1, max: 1 }),
        (pools, ops, jobs, delta) => {
          const pooled = pools.reduce((n, p) => n + p.poolMax * p.replicas, 0);
          const server = { a: 3, b: 2 };
          const others = Array.from({ length: jobs }, (_, i) => ({ name: `job${i}`, connections: MIGRATION_JOB_CONNECTIONS }));
          const exact = pooled + 5 + ops + jobs * MIGRATION_JOB_CONNECTIONS;
          const a = connectionArithmetic({
            pools: pools.map((p, i) => ({ name: `s${i}`, ...p })),
            maxConnections: exact + delta,
            serverReserved: server,
            opsReserved: ops,
            others,
          });
          expect(a.required).toBe(exact);
          expect(a.ok).toBe(delta >= 0);
        },
      ),
    );
  });
});
