/**
 * `npm run load -- --quick --faults <list>`: the reference service under load while its dependencies
 * misbehave, and what came out. Two replicas (A, B) of agent-intelligence run as processes on real
 * redis-server and PostgreSQL, each reached through a fault proxy (tools/fault-proxy), and a real
 * Prometheus scrapes them with the generated rules. Faults follow the schedule (load/faults/spec.ts)
 * while writers, the staleness probe and the admission probe (load/faults/probes.ts) run.
 *
 * The report has a section per fault (failed requests and their statuses, p99 during and after, time
 * to recover, stale reads, admissions during a Redis outage), the writes lost or duplicated (rows
 * against 2xx answers, through Idempotency-Key retries), the alerts that fired and when, and the
 * guarantees table (load/faults/guarantees.ts): a bound exceeded fails the run.
 */
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import pg from "pg";
import { FaultProxy } from "../../tools/fault-proxy/proxy";
import { freePort } from "../../tools/local-servers/binaries";
import { startBackends, startService, type RunningService } from "../local-stack";
import { startRunPrometheus } from "../runner/prometheus";
import { promDurationSeconds } from "../runner/query-check";
import { stackProfile } from "../stack-profile";
import { checkGuarantees, guaranteesTable, type Guarantee } from "./guarantees";
import { probeAdmission, runStalenessProbe, runWriters, type AdmissionSample, type Attempt, type StaleSample } from "./probes";
import type { ScheduledLoadFault } from "./spec";

const SERVICE = "agent-intelligence";
/** How long after a fault ends its "after" window lasts (p99 after, stale reads it caused). */
const AFTER_MS = 10_000;

export interface FaultSection {
  fault: string;
  startS: number;
  endS: number;
  requests: number;
  failed: number;
  statuses: Record<string, number>;
  p99DuringMs: number;
  p99AfterMs: number;
  /** From the fault's end to the last failed request it caused, s (0: none failed after it ended). */
  recoverS: number;
  staleReads: { probes: number; staleMaxMs: number | null; lost: number };
  admission?: AdmissionSample;
}

export interface FaultReport {
  startedAt: string;
  durationS: number;
  loadavg: string;
  faults: FaultSection[];
  writes: {
    acknowledged: number;
    rows: number;
    lost: number;
    duplicated: number;
    abandoned: number;
    committedUnacknowledged: number;
  };
  baselineAdmission: AdmissionSample;
  alerts: { alertname: string; firstFiringS: number | null; firstPendingS: number | null }[];
  guarantees: Guarantee[];
  failures: string[];
}

const p99 = (xs: number[]) => {
  if (!xs.length) return 0;
  const sorted = [...xs].sort((a, b) => a - b);
  return Math.round(sorted[Math.min(sorted.length - 1, Math.ceil(0.99 * sorted.length) - 1)]!);
};
const ok = (a: Attempt) => a.status >= 200 && a.status < 300;

export async function runFaults(options: {
  faults: ScheduledLoadFault[];
  durationS: number;
  writers: number;
  out?: string;
  log: (line: string) => void;
}): Promise<FaultReport> {
  const { log } = options;
  const profile = stackProfile("local");
  const backends = await startBackends(profile, log);
  const redisProxy = await FaultProxy.start({ port: backends.redis.port });
  const pgProxy = await FaultProxy.start({ port: backends.postgres.port });
  const services: RunningService[] = [];
  let prom: Awaited<ReturnType<typeof startRunPrometheus>> | undefined;
  const timers: NodeJS.Timeout[] = [];
  try {
    const [service, env] = [...backends.envs].find(([s]) => s.name === SERVICE)!;
    // The stack gives the role CONNECTION LIMIT pool.max x hpa.max; two replicas run here, so twice its pool.
    const admin = new pg.Client({ connectionString: backends.postgres.url(profile.database.name) });
    await admin.connect();
    await admin.query(`ALTER ROLE ${pg.escapeIdentifier(env.UAIP_DB_USER!)} CONNECTION LIMIT ${2 * service.pool.max}`);
    await admin.end();
    for (const replica of ["a", "b"]) {
      const port = await freePort();
      const replicaEnv = {
        ...env,
        UAIP_PORT: String(port),
        UAIP_REDIS_PORT: String(redisProxy.port),
        UAIP_DB_PORT: String(pgProxy.port),
        UAIP_TRUSTED_PROXY_HOPS: "1",
        // Two replicas run here: each limiter's outage fallback takes half the limit.
        UAIP_REPLICAS_MAX: "2",
      };
      services.push(await startService({ ...service, port }, replicaEnv));
      log(
        `replica ${replica}: ${services.at(-1)!.origin} (Redis via proxy :${redisProxy.port}, PostgreSQL via proxy :${pgProxy.port})`,
      );
    }
    const origins = services.map((s) => s.origin);
    prom = await startRunPrometheus(
      profile,
      services.map((s, i) => ({ name: `${SERVICE}-${i}`, port: s.service.port })),
      { mode: "quick", keep: false },
    );
    const limit = profile.runtime.rateLimit.maxRequests;
    const promStart = Date.now() / 1000;
    const runStart = Date.now();
    const baselineAdmission = await probeAdmission(origins, SERVICE, limit, runStart);
    log(`baseline admission (Redis up): ${baselineAdmission.admitted}/${baselineAdmission.sent} for a limit of ${limit}`);

    // The schedule, anchored at runStart; each fault's real start and end are recorded.
    const windows = new Map<ScheduledLoadFault, { startMs: number; endMs: number }>();
    const admissions = new Map<ScheduledLoadFault, Promise<AdmissionSample>>();
    const done: Promise<void>[] = [];
    for (const f of options.faults) {
      done.push(
        new Promise<void>((resolve) => {
          timers.push(
            setTimeout(async () => {
              const startMs = Date.now() - runStart;
              log(`${(startMs / 1000).toFixed(1)}s: ${f.text} on`);
              if (f.kind === "restart") {
                await backends.postgres.restart("fast");
              } else if (f.kind === "kill") {
                await backends.redis.stop();
                // While Redis is down: how many requests of one fresh client do the replicas admit together?
                const probe = probeAdmission(origins, SERVICE, limit, runStart);
                admissions.set(f, probe);
                // Redis stays down until the probe is done: a request answered after the restart would be
                // counted by a Redis that has forgotten everything, and is not an outage admission.
                await Promise.all([new Promise((r) => setTimeout(r, f.forS * 1000)), probe]);
                await backends.redis.start();
              } else {
                const proxy = f.target === "redis" ? redisProxy : pgProxy;
                proxy.enable(f.fault);
                await new Promise((r) => setTimeout(r, f.forS * 1000));
                proxy.disable(f.fault.kind);
              }
              const endMs = Date.now() - runStart;
              windows.set(f, { startMs, endMs });
              log(`${(endMs / 1000).toFixed(1)}s: ${f.text} off`);
              resolve();
            }, f.atS * 1000),
          );
        }),
      );
    }
    const lastFaultEndS = Math.max(0, ...options.faults.map((f) => f.atS + f.forS));
    const durationS = Math.max(options.durationS, lastFaultEndS + AFTER_MS / 1000 + 5);
    const until = () => Date.now() - runStart >= durationS * 1000;
    const keyPrefix = `fault-run-${runStart}-`;
    const [writes, stale] = await Promise.all([
      runWriters(origins, SERVICE, options.writers, runStart, until, keyPrefix),
      runStalenessProbe(origins[0]!, origins[1]!, SERVICE, runStart, until),
      ...done,
    ]);
    const outageAdmissions = await Promise.all(options.faults.map((f) => admissions.get(f)).filter((p) => p !== undefined));

    // Rows against 2xx answers, by Idempotency-Key.
    const counter = new pg.Client({ connectionString: backends.postgres.url(profile.database.name) });
    await counter.connect();
    const { rows } = await counter.query<{ key: string; ids: string[] }>(
      "SELECT idempotency_key AS key, array_agg(id::text) AS ids FROM operations WHERE idempotency_key LIKE $1 GROUP BY 1",
      [`${keyPrefix}%`],
    );
    await counter.end();
    const stored = new Map(rows.map((r) => [r.key, r.ids]));
    const lost = [...writes.acknowledged].filter(([key, id]) => !stored.get(key)?.includes(id)).length;
    const duplicated = rows.reduce((sum, r) => sum + r.ids.length - 1, 0);
    const committedUnacknowledged = rows.filter((r) => !writes.acknowledged.has(r.key)).length;

    // Alerts from the run's Prometheus: two more evaluations first.
    const scrapeS = promDurationSeconds(prom.scrapeInterval);
    await new Promise((r) => setTimeout(r, 2 * scrapeS * 1000 + 500));
    const series = await prom.prometheus.queryRange("ALERTS", Math.floor(promStart), Math.ceil(Date.now() / 1000), scrapeS);
    const alertTimes = new Map<string, { firstFiringS: number | null; firstPendingS: number | null }>();
    for (const s of series) {
      const name = s.metric.alertname ?? "";
      const seen = alertTimes.get(name) ?? { firstFiringS: null, firstPendingS: null };
      const first = Math.round(s.values[0]![0] - runStart / 1000);
      const slot = s.metric.alertstate === "firing" ? "firstFiringS" : "firstPendingS";
      seen[slot] = seen[slot] === null ? first : Math.min(seen[slot]!, first);
      alertTimes.set(name, seen);
    }

    // A fault's "after" window stops where the next fault starts: its failures are the next one's.
    const sections = options.faults.map((f, i) => {
      const w = windows.get(f)!;
      const next = options.faults.slice(i + 1).map((g) => windows.get(g)!.startMs);
      return section(f, { ...w, afterEndMs: Math.min(w.endMs + AFTER_MS, ...next) }, writes.attempts, stale);
    });
    for (const [i, f] of options.faults.entries()) {
      if (f.kind === "kill") sections[i]!.admission = outageAdmissions.shift();
    }
    const faultWindows = [...windows.values()];
    const healthy = stale.filter(
      (s) => !faultWindows.some((w) => s.atMs >= w.startMs - 1_000 && s.atMs <= w.endMs + AFTER_MS) && s.staleMs !== null,
    );
    const redisSections = sections.filter((_, i) => options.faults[i]!.target === "redis");
    const guarantees = checkGuarantees({
      healthyStaleMaxMs: healthy.length ? Math.max(...healthy.map((s) => s.staleMs!)) : undefined,
      redisFaultStale: redisSections.map((s) => ({
        fault: s.fault,
        durationMs: (s.endS - s.startS) * 1000,
        staleMaxMs: s.staleReads.staleMaxMs ?? undefined,
      })),
      lostInvalidations: stale.filter((s) => s.staleMs === null).length,
      outageAdmission: sections.flatMap((s) => (s.admission ? [s.admission] : [])),
      pgRecoveryMs: sections.filter((_, i) => options.faults[i]!.kind === "restart").map((s) => s.recoverS * 1000),
      lostWrites: lost,
      duplicatedWrites: duplicated,
    });
    const failures = guarantees.filter((g) => !g.ok).map((g) => `${g.guarantee}: measured ${g.measured}, bound ${g.bound}`);
    const { loadavg } = await import("node:os");
    const report: FaultReport = {
      startedAt: new Date(runStart).toISOString(),
      durationS,
      loadavg: loadavg()
        .map((x) => x.toFixed(2))
        .join(" "),
      faults: sections,
      writes: {
        acknowledged: writes.acknowledged.size,
        rows: rows.reduce((sum, r) => sum + r.ids.length, 0),
        lost,
        duplicated,
        abandoned: writes.abandoned.length,
        committedUnacknowledged,
      },
      baselineAdmission,
      alerts: [...alertTimes]
        .map(([alertname, t]) => ({ alertname, ...t }))
        .sort((a, b) => a.alertname.localeCompare(b.alertname)),
      guarantees,
      failures,
    };
    if (options.out) {
      mkdirSync(options.out, { recursive: true });
      writeFileSync(join(options.out, "faults.json"), `${JSON.stringify(report, null, 2)}\n`);
      writeFileSync(join(options.out, "faults.md"), faultReportMarkdown(report));
    }
    return report;
  } finally {
    for (const t of timers) clearTimeout(t);
    await prom?.prometheus.stop();
    await Promise.all(services.map((s) => s.stop().catch(() => undefined)));
    await redisProxy.close();
    await pgProxy.close();
    await backends.stop();
  }
}

function section(
  f: ScheduledLoadFault,
  w: { startMs: number; endMs: number; afterEndMs: number },
  attempts: readonly Attempt[],
  stale: readonly StaleSample[],
): FaultSection {
  const during = attempts.filter((a) => a.atMs >= w.startMs && a.atMs <= w.endMs);
  const after = attempts.filter((a) => a.atMs > w.endMs && a.atMs <= w.afterEndMs);
  const affected = [...during, ...after];
  const failed = affected.filter((a) => !ok(a));
  const statuses: Record<string, number> = {};
  for (const a of affected) {
    const key = a.code ? `${a.status} ${a.code}` : String(a.status);
    statuses[key] = (statuses[key] ?? 0) + 1;
  }
  const lastFailure = Math.max(w.endMs, ...failed.map((a) => a.atMs + a.latencyMs));
  const probes = stale.filter((s) => s.atMs >= w.startMs - 1_000 && s.atMs <= w.afterEndMs);
  const measured = probes.filter((s) => s.staleMs !== null).map((s) => s.staleMs!);
  return {
    fault: f.text,
    startS: w.startMs / 1000,
    endS: w.endMs / 1000,
    requests: affected.length,
    failed: failed.length,
    statuses,
    p99DuringMs: p99(during.map((a) => a.latencyMs)),
    p99AfterMs: p99(after.map((a) => a.latencyMs)),
    recoverS: (lastFailure - w.endMs) / 1000,
    staleReads: {
      probes: probes.length,
      staleMaxMs: measured.length ? Math.max(...measured) : null,
      lost: probes.filter((s) => s.staleMs === null).length,
    },
  };
}

export function faultReportMarkdown(r: FaultReport): string {
  const lines = [
    `# Fault run, ${r.startedAt}`,
    "",
    `${r.durationS} s, two replicas of ${SERVICE} behind fault proxies; loadavg at the end ${r.loadavg}.`,
    `Baseline admission of one client with Redis up: ${r.baselineAdmission.admitted} of ${r.baselineAdmission.sent} (limit ${r.baselineAdmission.limit}; statuses ${JSON.stringify(r.baselineAdmission.statuses)}).`,
    "",
  ];
  for (const s of r.faults) {
    lines.push(
      `## ${s.fault} (${s.startS.toFixed(1)}s to ${s.endS.toFixed(1)}s)`,
      "",
      `- requests during and up to ${AFTER_MS / 1000} s after (or the next fault): ${s.requests}, failed ${s.failed}; statuses ${JSON.stringify(s.statuses)}`,
      `- p99 during ${s.p99DuringMs} ms, after ${s.p99AfterMs} ms; recovered ${s.recoverS.toFixed(1)} s after the fault ended`,
      `- stale reads: ${s.staleReads.probes} probes, longest stale window ${s.staleReads.staleMaxMs ?? "-"} ms, lost invalidations ${s.staleReads.lost}`,
      ...(s.admission
        ? [
            `- one client during the outage: ${s.admission.admitted} of ${s.admission.sent} admitted across both replicas (limit ${s.admission.limit}; statuses ${JSON.stringify(s.admission.statuses)}; took ${s.admission.tookMs} ms, Redis down throughout)`,
          ]
        : []),
      "",
    );
  }
  const w = r.writes;
  lines.push(
    "## Writes",
    "",
    `${w.acknowledged} acknowledged (2xx), ${w.rows} rows: lost ${w.lost}, duplicated ${w.duplicated}; ${w.abandoned} abandoned by the client after 30 s of retries, ${w.committedUnacknowledged} committed without a 2xx reaching the client.`,
    "",
    "## Alerts (the run's Prometheus, generated rules)",
    "",
    ...(r.alerts.length
      ? r.alerts.map((a) => `- ${a.alertname}: pending at ${a.firstPendingS ?? "-"} s, firing at ${a.firstFiringS ?? "-"} s`)
      : ["- none pending or firing"]),
    "",
    "## Guarantees",
    "",
    guaranteesTable(r.guarantees),
    "",
  );
  return lines.join("\n");
}
