import { spawnSync } from "node:child_process";
import { cpSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ruleFiles } from "../../dashboards/rules";
import { toYaml } from "../../dashboards/serialize";
import { requireBinary } from "../helpers/redis";

/**
 * The promtool alert scenarios (test/dashboards/promtool/) run against the rules as `ruleFiles` builds them NOW,
 * in this process, not against the committed rule files (promtool.test.ts). So a change to dashboards/rules.ts
 * (a burn window, a factor, a threshold, a `for`) is judged by the scenarios' behaviour, not only by the
 * committed-file comparison of generated.test.ts, which any `npm run generate` makes pass.
 */

const TESTS_DIR = join(__dirname, "promtool");
const TEST_FILES = readdirSync(TESTS_DIR).filter((f) => f.endsWith(".test.yaml"));

let promtool: string;
beforeAll(() => {
  promtool = requireBinary("promtool");
});

/** A scratch tree shaped like the repository (the scenarios load `../../../dashboards/rules/*.yaml`). */
function scenariosOnGeneratedRules(testFile: string): { status: number | null; output: string } {
  const dir = mkdtempSync(join(tmpdir(), "uaip-live-rules-"));
  try {
    mkdirSync(join(dir, "dashboards", "rules"), { recursive: true });
    for (const [path, content] of Object.entries(ruleFiles())) writeFileSync(join(dir, "dashboards", path), toYaml(content));
    const testsDir = join(dir, "test", "dashboards", "promtool");
    cpSync(TESTS_DIR, testsDir, { recursive: true });
    // Slack for a loaded machine: the 3-day scenarios take seconds alone, far longer under load.
    const result = spawnSync(promtool, ["test", "rules", join(testsDir, testFile)], { encoding: "utf8", timeout: 300_000 });
    return { status: result.status, output: `${result.stdout}${result.stderr}` };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

describe("promtool scenarios on the rules generated now", () => {
  it("finds the scenario files", () => {
    expect(TEST_FILES.length).toBeGreaterThan(0);
  });

  it.each(TEST_FILES)(
    "%s passes",
    (testFile) => {
      const { status, output } = scenariosOnGeneratedRules(testFile);
      expect(output).toContain("SUCCESS");
      expect(status).toBe(0);
    },
    330_000,
  );
});
