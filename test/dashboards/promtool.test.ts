import { spawnSync } from "node:child_process";
import { cpSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parse } from "yaml";
import { PROMETHEUS_CONFIG_PATH, generatedFiles } from "../../dashboards/files";
import { buildRuleGroups } from "../../dashboards/rules";
import { requireBinary } from "../helpers/redis";

/**
 * promtool from Debian's prometheus package checks the generated rule files and prometheus.yml,
 * and runs the hand-written alert unit tests in test/dashboards/promtool/.
 */

const ROOT = join(__dirname, "..", "..");
const DASHBOARDS = join(ROOT, "dashboards");
const TESTS_DIR = join(__dirname, "promtool");
const RULE_FILES = readdirSync(join(DASHBOARDS, "rules"))
  .filter((f) => f.endsWith(".yaml"))
  .map((f) => join(DASHBOARDS, "rules", f));
const TEST_FILES = readdirSync(TESTS_DIR)
  .filter((f) => f.endsWith(".test.yaml"))
  .map((f) => join(TESTS_DIR, f));

let promtool: string;
beforeAll(() => {
  promtool = requireBinary("promtool");
});

function run(args: string[]): { status: number | null; output: string } {
  const result = spawnSync(promtool, args, { encoding: "utf8", timeout: 60_000 });
  return { status: result.status, output: `${result.stdout}${result.stderr}` };
}

interface PromtoolTestFile {
  rule_files: string[];
  tests: { alert_rule_test?: { alertname: string; exp_alerts?: unknown[] }[] }[];
}

describe("promtool", () => {
  it("finds the generated rule files and the unit tests", () => {
    expect(RULE_FILES.map((f) => f.replace(`${DASHBOARDS}/`, "")).sort()).toEqual([
      "rules/uaip-alerts.yaml",
      "rules/uaip-recording.yaml",
    ]);
    expect(TEST_FILES.length).toBeGreaterThan(0);
  });

  it("check rules passes on the generated rule files", () => {
    const { status, output } = run(["check", "rules", ...RULE_FILES]);
    expect(output).toContain("SUCCESS");
    expect(status).toBe(0);
  });

  it("check rules passes with other profile numbers too (prod-like SLO and thresholds)", () => {
    const dir = mkdtempSync(join(tmpdir(), "uaip-rules-"));
    try {
      const files = generatedFiles({ slo: { latencyP95Ms: 300, errorRate: 0.001 }, heapThreshold: 0.9, wsNearMaxFraction: 0.8 });
      const paths = Object.keys(files).filter((p) => p.startsWith("rules/"));
      paths.forEach((p, i) => writeFileSync(join(dir, `${i}.yaml`), files[p]!));
      const { status, output } = run(["check", "rules", ...paths.map((_, i) => join(dir, `${i}.yaml`))]);
      expect(output).toContain("SUCCESS");
      expect(status).toBe(0);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("check config passes on the generated prometheus.yml (and finds its rule files)", () => {
    const { status, output } = run(["check", "config", join(DASHBOARDS, PROMETHEUS_CONFIG_PATH)]);
    expect(output).toContain("SUCCESS: 2 rule files found");
    expect(status).toBe(0);
  });

  it("check config fails on a broken config (the check can fail)", () => {
    const dir = mkdtempSync(join(tmpdir(), "uaip-prom-"));
    try {
      const broken = join(dir, "prometheus.yml");
      writeFileSync(
        broken,
        readFileSync(join(DASHBOARDS, PROMETHEUS_CONFIG_PATH), "utf8").replace(
          "scrape_interval: 15s",
          "scrape_interval: fifteen",
        ),
      );
      expect(run(["check", "config", broken]).status).not.toBe(0);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it.each(TEST_FILES.map((f) => [f.replace(`${ROOT}/`, ""), f]))("test rules passes: %s", (_name, file) => {
    const { status, output } = run(["test", "rules", file]);
    expect(output).toContain("SUCCESS");
    expect(status).toBe(0);
  });

  it("covers every alert, each with a firing case and a quiet case", () => {
    const cases = TEST_FILES.flatMap((f) =>
      (parse(readFileSync(f, "utf8")) as PromtoolTestFile).tests.flatMap((t) => t.alert_rule_test ?? []),
    );
    for (const { alert } of buildRuleGroups().alerts.rules) {
      const mine = cases.filter((c) => c.alertname === alert);
      expect({ alert, fires: mine.some((c) => (c.exp_alerts ?? []).length > 0) }).toEqual({ alert, fires: true });
      expect({ alert, quiet: mine.some((c) => (c.exp_alerts ?? []).length === 0) }).toEqual({ alert, quiet: true });
    }
  });

  it("every unit-test file loads the generated rule files", () => {
    for (const file of TEST_FILES) {
      const { rule_files } = parse(readFileSync(file, "utf8")) as PromtoolTestFile;
      expect(rule_files.map((r) => join(TESTS_DIR, r)).sort()).toEqual([...RULE_FILES].sort());
    }
  });

  // The unit tests must bite: change one alert's expression (not its text) and the file that
  // tests it fails. Only that file runs, to keep this fast.
  it.each([
    ["heap threshold", "runtime", "(uaip_memory_heap_limit_bytes) > 0.85", "(uaip_memory_heap_limit_bytes) > 0.95"],
    ["page burn factor 14.4x", "slo", "ratio_rate1h > (14.4 * 0.01)", "ratio_rate1h > (24 * 0.01)"],
    ["page burn factor 6x", "slo", "ratio_rate6h > (6 * 0.01)", "ratio_rate6h > (9 * 0.01)"],
    // The 6x pair's short window: a burst that stopped 10 minutes ago still pages through 30m, not through 5m.
    ["page burn short window 30m", "slo", "ratio_rate30m > (6 * 0.01)", "ratio_rate5m > (6 * 0.01)"],
    ["ticket burn factor 3x", "slo-long", "ratio_rate1d > (3 * 0.01)", "ratio_rate1d > (5 * 0.01)"],
    ["ticket burn factor 1x", "slo", "ratio_rate3d > (1 * 0.01)", "ratio_rate3d > (2 * 0.01)"],
    ["latency SLO", "slo", "p95_5m > 0.5", "p95_5m > 1"],
    ["WebSocket near-max fraction", "runtime", "(uaip_ws_max_connections) > 0.9", "(uaip_ws_max_connections) > 0.96"],
    ["pool waiting sustained", "runtime", "(uaip_db_pool_waiting_requests) > 0", "(uaip_db_pool_waiting_requests) >= 0"],
    ["cache traffic guard", "runtime", "[5m])) > 0.1\n", "[5m])) > 0\n"],
  ])("test rules fails when the %s changes", (_what, testFile, from, to) => {
    const dir = mkdtempSync(join(tmpdir(), "uaip-mutant-"));
    try {
      const rulesDir = join(dir, "dashboards", "rules");
      cpSync(join(DASHBOARDS, "rules"), rulesDir, { recursive: true });
      const alerts = join(rulesDir, "uaip-alerts.yaml");
      const original = readFileSync(alerts, "utf8");
      expect(original).toContain(from);
      writeFileSync(alerts, original.replace(from, to));
      const testsDir = join(dir, "test", "dashboards", "promtool");
      cpSync(TESTS_DIR, testsDir, { recursive: true });
      expect(run(["test", "rules", join(testsDir, `${testFile}.test.yaml`)]).status).not.toBe(0);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
