import { copyFileSync, existsSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { SEED_OPERATION, SEED_STAGES, SEED_THINK_TIME_S } from "../../load/k6/stages";
import { k6SloFile, k6Thresholds, renderSloFiles } from "../../load/k6-slo";

const root = join(__dirname, "..", "..");
/** shared/ sits beside the checkout (CI: a copy beside the clone; here: beside the worktrees' parent). */
function findSeed(): string {
  for (let dir = root; dir !== "/"; dir = join(dir, "..")) {
    const path = join(dir, "shared", "seeds", "000_38a699090d7d43c8.txt");
    if (existsSync(path)) return path;
  }
  throw new Error("shared/seeds/000_38a699090d7d43c8.txt not found beside the checkout");
}
const seed = readFileSync(findSeed(), "utf8");
const seedScript = seed.slice(seed.indexOf("### K6 Load Test Scripts"), seed.indexOf("## Resource Optimization"));

describe("k6 scripts follow the seed", () => {
  it("uses the seed's stages, request body and think time, read from the seed's own text", () => {
    const stages = [...seedScript.matchAll(/\{ duration: '(\w+)', target: (\d+) \}/g)].map((m) => ({
      duration: m[1],
      target: Number(m[2]),
    }));
    expect(stages).toHaveLength(3);
    expect(SEED_STAGES).toEqual(stages);
    expect(seedScript).toContain("sleep(1)");
    expect(SEED_THINK_TIME_S).toBe(1);
    expect(seedScript).toMatch(/type: 'test',\s*payload: \{ data: 'test' \}/);
    expect(SEED_OPERATION).toEqual({ type: "test", payload: { data: "test" } });
  });

  it("keeps the seed's checks and POST /operations in seed.ts", () => {
    const script = readFileSync(join(root, "load", "k6", "seed.ts"), "utf8");
    expect(script).toContain('"is status 200": (r) => r.status === 200');
    expect(script).toContain('"response time < 500ms": (r) => r.timings.duration < 500');
    expect(script).toMatch(/http\.post\(`\$\{BASE_URL\}\/operations`/);
    expect(script).toContain("sleep(SEED_THINK_TIME_S)");
  });

  it("writes the seed's thresholds in valid k6 syntax (p(95), not the seed's invalid p95)", () => {
    expect(seedScript).toContain("'p95<500'");
    expect(k6Thresholds({ latencyP95Ms: 500, errorRate: 0.01 })).toEqual({
      http_req_duration: ["p(95)<500"],
      http_req_failed: ["rate<0.01"],
    });
  });

  it("derives thresholds from the profile's SLO, so a changed SLO changes the load test", () => {
    expect(k6SloFile("x", { latencyP95Ms: 250, errorRate: 0.005 }).thresholds).toEqual({
      http_req_duration: ["p(95)<250"],
      http_req_failed: ["rate<0.005"],
    });
  });

  it("commits one fresh slo/<stack>.json per stack (run `npm run load:k6` after changing an SLO)", () => {
    const files = renderSloFiles(root);
    expect([...files.keys()].map((f) => f.split("/").pop()).sort()).toEqual([
      "dev.json",
      "local.json",
      "prod.json",
      "staging.json",
    ]);
    for (const [path, text] of files) expect(readFileSync(path, "utf8")).toBe(text);
  });

  it("follows a stack file's SLO override", () => {
    const dir = mkdtempSync(join(tmpdir(), "k6slo-"));
    copyFileSync(join(root, "Pulumi.yaml"), join(dir, "Pulumi.yaml"));
    writeFileSync(
      join(dir, "Pulumi.dev.yaml"),
      readFileSync(join(root, "Pulumi.dev.yaml"), "utf8").replace(
        /^config:\n/m,
        "config:\n  uaip:monitoring:\n    slo:\n      latencyP95Ms: 300\n      errorRate: 0.02\n",
      ),
    );
    const [text] = [...renderSloFiles(dir).values()];
    expect(JSON.parse(text).thresholds).toEqual({ http_req_duration: ["p(95)<300"], http_req_failed: ["rate<0.02"] });
  });
});
