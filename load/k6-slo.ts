/**
 * The k6 thresholds of each stack, generated from its SLO (`monitoring.slo`), the same numbers the
 * SLO alerts use. `npm run load:k6` writes `load/k6/slo/<stack>.json`; a test fails when a file is
 * stale, so changing a stack's SLO changes its load test in the same commit.
 */
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import type { Profile } from "../profile/schema";
import { listStacks } from "../tools/stack-file";
import { REPO_ROOT, stackProfile } from "./stack-profile";

export type Slo = Profile["monitoring"]["slo"];

export interface K6SloFile {
  stack: string;
  slo: Slo;
  /** k6 threshold syntax: `p(95)<N`, never the seed's invalid `p95<N`. */
  thresholds: { http_req_duration: string[]; http_req_failed: string[] };
}

export function k6Thresholds(slo: Slo): K6SloFile["thresholds"] {
  return {
    http_req_duration: [`p(95)<${slo.latencyP95Ms}`],
    http_req_failed: [`rate<${slo.errorRate}`],
  };
}

export function k6SloFile(stack: string, slo: Slo): K6SloFile {
  return { stack, slo, thresholds: k6Thresholds(slo) };
}

export const SLO_DIR = join(REPO_ROOT, "load", "k6", "slo");

/** Every stack's file contents, keyed by path. */
export function renderSloFiles(root = REPO_ROOT): Map<string, string> {
  const files = new Map<string, string>();
  for (const stack of listStacks(root)) {
    const file = k6SloFile(stack, stackProfile(stack, root).monitoring.slo);
    files.set(join(SLO_DIR, `${stack}.json`), `${JSON.stringify(file, null, 2)}\n`);
  }
  return files;
}

if (require.main === module) {
  for (const [path, text] of renderSloFiles()) {
    writeFileSync(path, text);
    console.log(`wrote ${path}`);
  }
}
