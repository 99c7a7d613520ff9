import { checkRuntimeEnv, loadRuntimeConfig, RUNTIME_ENV, RUNTIME_OPTIONAL_ENV_NAMES } from "../../src/config";

/** The data tier's variables (issue #28): UAIP_REDIS_MODE, the reader and direct hosts, pinning detection. */
describe("data-tier variables", () => {
  it("UAIP_REDIS_MODE: standalone by default, cluster accepted, anything else refused by name with the value", () => {
    expect(loadRuntimeConfig({}).cache.redis.mode).toBe("standalone");
    expect(loadRuntimeConfig({ UAIP_REDIS_MODE: "cluster" }).cache.redis.mode).toBe("cluster");
    for (const bad of ["sharded", "Cluster", ""]) {
      const { issues } = checkRuntimeEnv({ UAIP_REDIS_MODE: bad });
      expect(issues).toEqual([expect.objectContaining({ key: "UAIP_REDIS_MODE", value: bad })]);
      expect(issues[0]!.message).toMatch(/standalone|cluster/);
    }
  });

  it("the reader and direct hosts are empty unless set; set, they reach database.readHost / directHost", () => {
    expect(loadRuntimeConfig({}).database).toMatchObject({ readHost: "", directHost: "" });
    expect(loadRuntimeConfig({ UAIP_DB_READ_HOST: "replica-1.x", UAIP_DB_DIRECT_HOST: "writer.x" }).database).toMatchObject({
      readHost: "replica-1.x",
      directHost: "writer.x",
    });
  });

  it("UAIP_POOL_DETECT_PINNING turns pool.detectPinning on; a non-boolean is refused by name", () => {
    expect(loadRuntimeConfig({}).pool.detectPinning).toBeUndefined();
    expect(loadRuntimeConfig({ UAIP_POOL_DETECT_PINNING: "true" }).pool.detectPinning).toBe(true);
    expect(checkRuntimeEnv({ UAIP_POOL_DETECT_PINNING: "sometimes" }).issues.map((i) => i.key)).toEqual([
      "UAIP_POOL_DETECT_PINNING",
    ]);
  });

  it("the optional variables are exactly the three written only when set, none of them secret", () => {
    expect([...RUNTIME_OPTIONAL_ENV_NAMES].sort()).toEqual([
      "UAIP_DB_DIRECT_HOST",
      "UAIP_DB_READ_HOST",
      "UAIP_POOL_DETECT_PINNING",
    ]);
    for (const n of RUNTIME_OPTIONAL_ENV_NAMES) expect(RUNTIME_ENV[n].secret).toBeFalsy();
  });
});
