import { spawn } from "node:child_process";
import { createHash } from "node:crypto";
import { closeSync, existsSync, mkdtempSync, openSync, readFileSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { PlanJson } from "../../tools/plan";

export const ROOT = join(__dirname, "..", "..");

export interface PlanRun {
  code: number;
  stdout: string;
  stderr: string;
  json?: PlanJson;
}

/**
 * Where one jest run shares its plans (test/global-setup.js makes a fresh directory per run). A plan takes
 * 4-6 s of CPU and the suite makes dozens, so two test files asking for the same plan share one
 * process. The plan's output depends only on its arguments and the checkout, which does not change
 * during a run, so the key is the arguments, with a `--stack-file` named by its content's hash (two
 * tests writing the same stack file get one plan). Any other argument naming a file (an output the
 * test reads, a directory of capacity files) is not cached.
 */
function cachedPlanFile(args: string[]): string | undefined {
  const dir = process.env.UAIP_PLAN_CACHE;
  if (!dir) return undefined;
  const key: string[] = [];
  for (let i = 0; i < args.length; i++) {
    if (args[i] === "--stack-file" && i + 1 < args.length) {
      const file = args[++i];
      if (!existsSync(file)) return undefined;
      key.push("--stack-file", createHash("sha256").update(readFileSync(file)).digest("hex").slice(0, 16));
    } else if (args[i].includes("/") || args[i].includes("\\")) {
      return undefined;
    } else {
      key.push(args[i].replace(/[^\w.-]/g, "_"));
    }
  }
  return join(dir, `${key.join(" ")}.json`);
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * The cached run in `file`, made here or by whichever worker asked first: the first to create
 * `<file>.lock` plans, the others wait for its result (jest starts files that want the same plan at
 * the same moment on its two workers). A worker that never finishes is not waited for past the
 * deadline: the plan then runs here too.
 */
async function sharedRun(file: string, plan: () => Promise<PlanRun>): Promise<PlanRun> {
  const read = () => JSON.parse(readFileSync(file, "utf8")) as PlanRun;
  if (existsSync(file)) return read();
  try {
    closeSync(openSync(`${file}.lock`, "wx"));
  } catch {
    for (const deadline = Date.now() + 120_000; Date.now() < deadline; await sleep(100)) if (existsSync(file)) return read();
    return plan();
  }
  const run = await plan();
  // Written whole, then renamed: another worker never reads half a file.
  writeFileSync(`${file}.${process.pid}`, JSON.stringify(run));
  renameSync(`${file}.${process.pid}`, file);
  return run;
}

/** Runs the offline plan as a user would (`npm run plan -- ...`), in its own process. */
export async function runPlan(args: string[]): Promise<PlanRun> {
  const cached = cachedPlanFile(args);
  return cached ? sharedRun(cached, () => planProcess(args)) : planProcess(args);
}

/**
 * The plan of a committed stack (`Pulumi.<stack>.yaml`), as `npm run plan -- --stack <stack> --cost`
 * prints it. Every test of a committed stack's plan asks for this one run, so a jest run plans each
 * committed stack once; `--cost` only adds the estimate's printout (the JSON is the same without it),
 * which the cost tests read.
 */
export function committedPlan(stack: string): Promise<PlanRun> {
  return runPlan(["--stack", stack, "--cost"]);
}

function planProcess(args: string[]): Promise<PlanRun> {
  const dir = mkdtempSync(join(tmpdir(), "uaip-plan-"));
  const jsonFile = join(dir, "plan.json");
  return new Promise((resolve) => {
    // `npm run plan` is `tsx tools/plan.ts`; node with tsx's loader is the same program without the tsx CLI's
    // own process in front of it (about 0.3 s of CPU per plan, and the suite makes dozens).
    const child = spawn(process.execPath, ["--import", "tsx", join(ROOT, "tools", "plan.ts"), ...args, "--json", jsonFile], {
      cwd: ROOT,
    });
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
      rmSync(dir, { recursive: true, force: true });
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
