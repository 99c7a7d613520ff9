import { join } from "node:path";
import { reportName, strykerArgs } from "../../tools/mutate";

const ROOT = join(__dirname, "..", "..");

describe("npm run mutate -- <paths>", () => {
  it("turns folders into globs of their .ts files and keeps files as written, relative to the root", () => {
    expect(strykerArgs(["policy/rules", "load/runner/stats.ts", "runtime/src/cache/"], ROOT)).toEqual({
      mutate: ["policy/rules/**/*.ts", "load/runner/stats.ts", "runtime/src/cache/**/*.ts"],
      passThrough: [],
      missing: [],
    });
  });

  it("resolves paths from the directory npm was run in", () => {
    expect(strykerArgs(["runner/stats.ts"], join(ROOT, "load")).mutate).toEqual(["load/runner/stats.ts"]);
  });

  it("passes options to Stryker as written and lists every missing path", () => {
    expect(strykerArgs(["--concurrency=1", "profile", "--force", "nope.ts", "gone/"], ROOT)).toEqual({
      mutate: ["profile/**/*.ts"],
      passThrough: ["--concurrency=1", "--force"],
      missing: ["nope.ts", "gone/"],
    });
  });

  it("names the report after a single path, and 'selection' for several", () => {
    expect(reportName([])).toBe("mutation");
    expect(reportName(["policy/rules/**/*.ts"])).toBe("policy-rules");
    expect(reportName(["dashboards/rules.ts"])).toBe("dashboards-rules");
    expect(reportName(["a.ts", "b.ts"])).toBe("selection");
  });
});
