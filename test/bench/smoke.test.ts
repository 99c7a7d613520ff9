import { execFile } from "node:child_process";
import { readdirSync } from "node:fs";
import { join } from "node:path";
import type { BenchResult } from "../../bench/types";

/**
 * Every bench module still runs: `npm run bench -- --smoke --json` (bench/run.ts with minimal
 * iterations, as its own process under tsx, exactly as `npm run bench` loads the modules) must
 * return, for every bench/*.bench.ts file, at least one result and only finite numbers. The monitor
 * bench once threw on an option validator's change and nobody saw it until a manual full run.
 * The numbers themselves mean nothing at this size; nothing here compares them with targets.
 */
const ROOT = join(__dirname, "..", "..");

interface SmokeOutput {
  files: { file: string; results: BenchResult[]; error?: string }[];
}

function runSmoke(): Promise<SmokeOutput> {
  return new Promise((resolve, reject) => {
    execFile(
      process.execPath,
      ["--import", "tsx", join(ROOT, "bench", "run.ts"), "--smoke", "--json"],
      { cwd: ROOT, maxBuffer: 16 * 1024 * 1024, timeout: 170_000 },
      (error, stdout, stderr) => {
        const line = stdout.trim().split("\n").pop() ?? "";
        try {
          resolve(JSON.parse(line) as SmokeOutput);
        } catch {
          reject(new Error(`bench --smoke printed no JSON (${error?.message ?? "exit 0"}):\n${stderr.slice(-4_000)}`));
        }
      },
    );
  });
}

describe("npm run bench -- --smoke", () => {
  let output: SmokeOutput;
  beforeAll(async () => {
    output = await runSmoke();
  }, 180_000);

  it("runs every bench/*.bench.ts module", () => {
    const expected = readdirSync(join(ROOT, "bench"))
      .filter((f) => f.endsWith(".bench.ts"))
      .sort();
    expect(output.files.map((f) => f.file)).toEqual(expected);
  });

  it("every module returns at least one result and no error", () => {
    const broken = output.files.filter((f) => f.error !== undefined || f.results.length === 0);
    expect(broken.map((f) => `${f.file}: ${f.error ?? "no results"}`)).toEqual([]);
  });

  it("every result is finite: ours, the peer's value and the ratio (JSON turns NaN and Infinity into null)", () => {
    const notFinite = output.files.flatMap((f) =>
      f.results
        .filter((r) => ![r.ours, r.peerValue, r.ratio].every((n) => typeof n === "number" && Number.isFinite(n)))
        .map((r) => `${f.file}: ${r.name} (ours ${r.ours}, peer ${r.peerValue}, ratio ${r.ratio})`),
    );
    expect(notFinite).toEqual([]);
  });
});
