import fc from "fast-check";
import { checkRuntimeEnv, defaultKeyPrefix } from "@uaip/runtime/config";
import { parseConfig } from "../../profile/parse";
import { planEndpoints } from "../../profile/pod-config";
import { serviceEnv, serviceRuntimeSettings, servicePlan } from "../../profile/service-settings";

/**
 * Issue #22: the edges of profile/service-settings.ts the other tests left open: the per-service
 * defaults filled only where the profile names none, and the env's Redis mode and AWS region when
 * the platform's endpoints leave them out. Expectations come from the runtime's own loader.
 */

const local = (extra: Record<string, unknown> = {}) => parseConfig({ environment: "local", ...extra });
const SERVICE = fc.stringMatching(/^[a-z][a-z0-9-]{0,20}[a-z0-9]$/);

describe("serviceRuntimeSettings: per-service defaults only where the profile names none", () => {
  it("unset: each service gets its own Redis namespace and CDN path; set: the profile's value is kept", () => {
    fc.assert(
      fc.property(SERVICE, fc.boolean(), (name, set) => {
        const shared = set ? { runtime: { cache: { redis: { keyPrefix: "shared:" }, cdn: { pathPrefix: "/static/" } } } } : {};
        const p = local({ ...shared, services: [{ name, port: 3001 }] });
        const { cache } = serviceRuntimeSettings(p, p.services[0]!);
        expect(cache.redis.keyPrefix).toBe(set ? "shared:" : defaultKeyPrefix(name));
        expect(cache.cdn.pathPrefix).toBe(set ? "/static/" : `/${name}/`);
      }),
      { numRuns: 20 },
    );
  });
});

describe("serviceEnv: what the endpoints leave out", () => {
  it("no Redis mode: the pods load standalone; no region: no AWS_REGION; a region: exactly it", () => {
    const p = local();
    const settings = servicePlan(p).services[0]!;
    const { redisMode: _mode, awsRegion: _region, ...bare } = planEndpoints(p);
    const env = serviceEnv(p.environment, settings, bare);
    const { config, issues } = checkRuntimeEnv(env);
    expect(issues).toEqual([]);
    expect(config!.cache.redis.mode).toBe("standalone");
    expect("AWS_REGION" in env).toBe(false);
    fc.assert(
      fc.property(fc.constantFrom("us-east-1", "eu-west-3", "ap-southeast-2"), (region) => {
        expect(serviceEnv(p.environment, settings, { ...bare, awsRegion: region }).AWS_REGION).toBe(region);
      }),
    );
  });
});
