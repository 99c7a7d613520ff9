import { spawn } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { PlanJson } from "../../tools/plan";

export const ROOT = join(__dirname, "..", "..");
const TSX = join(ROOT, "node_modules", ".bin", "tsx");

export interface PlanRun {
  code: number;
  stdout: string;
  stderr: string;
  json?: PlanJson;
}

/**
 * Where one jest run shares its plans (jest.config.js makes a fresh directory per run). Several test
 * files plan the committed stacks with the same arguments (about 13 runs of 6–10 s each); with no
 * file path among the arguments, the plan's output depends only on the checkout, which does not change
 * during a run, so the first file to finish one leaves it here and the others read it.
 */
function cachedPlanFile(args: string[]): string | undefined {
  const dir = process.env.UAIP_PLAN_CACHE;
  if (!dir || args.some((a) => a.includes("/") || a.includes("\\"))) return undefined;
  return join(dir, `${args.map((a) => a.replace(/[^\w.-]/g, "_")).join(" ")}.json`);
}

/** Runs the offline plan as a user would (`npm run plan -- ...`), in its own process. */
export async function runPlan(args: string[]): Promise<PlanRun> {
  const cached = cachedPlanFile(args);
  if (cached && existsSync(cached)) return JSON.parse(readFileSync(cached, "utf8")) as PlanRun;
  const run = await planProcess(args);
  if (cached) {
    // Written whole, then renamed: another worker never reads half a file.
    writeFileSync(`${cached}.${process.pid}`, JSON.stringify(run));
    renameSync(`${cached}.${process.pid}`, cached);
  }
  return run;
}

function planProcess(args: string[]): Promise<PlanRun> {
  const dir = mkdtempSync(join(tmpdir(), "uaip-plan-"));
  const jsonFile = join(dir, "plan.json");
  return new Promise((resolve) => {
    const child = spawn(TSX, [join(ROOT, "tools", "plan.ts"), ...args, "--json", jsonFile], { cwd: ROOT });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d) => (stdout += d));
    child.stderr.on("data", (d) => (stderr += d));
    child.on("close", (code) => {
      let json: PlanJson | undefined;
      try {
        json = JSON.parse(readFileSync(jsonFile, "utf8"));
      } catch {
        json = undefined;
      }
      resolve({ code: code ?? 1, stdout, stderr, json });
    });
  });
}

/**
 * Stack-file lines giving an AWS stack the certificate and origin name it must have (the plan
 * refuses an AWS stack without HTTPS on the ALB); append to a stack file's `config:` block.
 */
export const ORIGIN_TLS_YAML =
  "  uaip:loadBalancer:\n    certificateArn: arn:aws:acm:us-east-1:111122223333:certificate/00000000-0000-0000-0000-000000000000\n    domainName: origin.test.uaip.example.com\n";

/** Writes a throwaway stack file and returns its path. */
export function stackFile(yaml: string): string {
  const file = join(mkdtempSync(join(tmpdir(), "uaip-stack-")), "Pulumi.test.yaml");
  writeFileSync(file, yaml);
  return file;
}
