import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { generatedFiles } from "../../dashboards/files";

/** The committed generated files are exactly what the builders generate now (run `npm run generate`). */

const DASHBOARDS = join(__dirname, "..", "..", "dashboards");
const files = generatedFiles();

describe("committed generated files", () => {
  it("generates the dashboards, the rule files and prometheus.yml", () => {
    expect(Object.keys(files).sort()).toEqual([
      "generated/uaip-platform-overview.json",
      "generated/uaip-service-overview.json",
      "prometheus/prometheus.yml",
      "rules/uaip-alerts.yaml",
      "rules/uaip-recording.yaml",
    ]);
  });

  it.each(Object.keys(files))("dashboards/%s is up to date (run `npm run generate` if not)", (path) => {
    const target = join(DASHBOARDS, path);
    expect(existsSync(target)).toBe(true);
    expect(readFileSync(target, "utf8")).toBe(files[path]);
  });

  it("has no stale generated file the builders no longer produce", () => {
    for (const dir of ["generated", "rules", "prometheus"]) {
      for (const name of readdirSync(join(DASHBOARDS, dir))) expect(Object.keys(files)).toContain(`${dir}/${name}`);
    }
  });

  it("is deterministic: stable key order and a trailing newline", () => {
    expect(generatedFiles()).toEqual(files);
    for (const content of Object.values(files)) expect(content.endsWith("\n")).toBe(true);
    const json = JSON.parse(files["generated/uaip-service-overview.json"]!) as Record<string, unknown>;
    expect(Object.keys(json)).toEqual([...Object.keys(json)].sort());
  });

  it("detects a difference (a changed option changes the output)", () => {
    expect(generatedFiles({ slo: { latencyP95Ms: 300 } })["rules/uaip-alerts.yaml"]).not.toBe(files["rules/uaip-alerts.yaml"]);
  });
});
