import dataTierLimits from "../vendor/aws/data-tier-limits.json";
import {
  EKS_CALENDAR,
  ELASTICACHE_REDIS_CALENDAR,
  ELASTICACHE_REDIS_VERSIONS,
  RDS_POSTGRES_CALENDAR,
  type SupportCalendar,
  type SupportWindow,
} from "./aws-catalog";
import type { ProfileIssue } from "./errors";
import type { Profile } from "./schema";

/**
 * Versions that exist and are in support on the day of the plan, from the vendored calendars
 * (vendor/aws/engine-support-calendars.json). A version past its standard support is billed at
 * AWS's extended-support rate, or upgraded by AWS when that ends: the plan refuses it unless the
 * stack opts in (EKS: cluster.extendedSupport). `today` is injected so tests are deterministic;
 * the program passes the day it runs.
 */

/** EKS bills a cluster in extended support $0.60 per hour instead of $0.10: six times the control plane. */
export const EKS_EXTENDED_SUPPORT_COST = "6× the control-plane price ($0.60 instead of $0.10 per cluster-hour)";

/** `YYYY-MM-DD` of a date in UTC: the calendars' dates are days, compared as strings. */
export function isoDay(date: Date): string {
  return date.toISOString().slice(0, 10);
}

export type SupportPhase = "unreleased" | "standard" | "extended" | "ended";

/**
 * Where a version is on its calendar on `day`. An end date is the first day without that support
 * (AWS's "end of standard support" date), so a version is in standard support strictly before it.
 */
export function supportPhase(w: SupportWindow, day: string): SupportPhase {
  if (day < w.released) return "unreleased";
  if (w.standardSupportEnds === false || day < w.standardSupportEnds) return "standard";
  const ext = w.extendedSupportEnds;
  if (ext === false || (typeof ext === "string" && day < ext)) return "extended";
  return "ended";
}

/** The versions in standard support on `day`, newest first (the fix a message offers). */
export function inStandardSupport(calendar: SupportCalendar, day: string): string[] {
  return calendar.releases.filter((w) => supportPhase(w, day) === "standard").map((w) => w.cycle);
}

function until(w: SupportWindow): string {
  return w.standardSupportEnds === false ? "no end date announced" : `until ${w.standardSupportEnds}`;
}

/** How a version past all support lost its extended support: on a date, on an unrecorded date, or never had any (null). */
function extendedEnd(w: SupportWindow): string {
  if (w.extendedSupportEnds === true) return "extended ended too";
  if (w.extendedSupportEnds === null) return "no extended support offered";
  return `extended ended ${w.extendedSupportEnds}`;
}

interface VersionRule {
  path: string;
  /** The version as the profile writes it. */
  written: string;
  /** The calendar entry it belongs to ("1.33" -> "1.33", "16" -> "16", "7.1" -> "7"). */
  cycle: string;
  calendar: SupportCalendar;
  /** Whether the stack accepts paid extended support, and the key that says so (EKS only). */
  extendedOptIn?: { key: string; enabled: boolean; cost: string };
}

function windowOf(rule: VersionRule): SupportWindow | undefined {
  return rule.calendar.releases.find((w) => w.cycle === rule.cycle);
}

/** A version the calendar does not list: no day makes it exist. */
function unknownVersionIssue(rule: VersionRule): ProfileIssue | undefined {
  if (windowOf(rule)) return undefined;
  const { path, written, calendar } = rule;
  const newest = calendar.releases.slice(0, 4).map((w) => w.cycle);
  return {
    path,
    message: `${JSON.stringify(written)} is not a version AWS offers for ${calendar.engine} (${calendar.source}, vendor/aws/engine-support-calendars.json); the newest it lists are ${newest.join(", ")} (pick one in standard support); if AWS has released it since, update the vendored calendar`,
  };
}

function versionIssue(rule: VersionRule, day: string): ProfileIssue | undefined {
  const { path, written, calendar } = rule;
  const window = windowOf(rule);
  if (!window) return undefined; // unknownVersionIssue, reported with the profile's own rules
  const current = inStandardSupport(calendar, day);
  const pick = `use one in standard support on ${day}: ${current.join(", ")}`;
  const from = `(${calendar.source}, vendor/aws/engine-support-calendars.json)`;
  const phase = supportPhase(window, day);
  if (phase === "unreleased")
    return { path, message: `${JSON.stringify(written)} is released on ${calendar.engine} only on ${window.released}; ${pick}` };
  if (phase === "standard") return undefined;
  const newer = current.map((c) => `${c} (${until(calendar.releases.find((w) => w.cycle === c)!)})`).join(", ");
  if (phase === "ended")
    return {
      path,
      message: `${JSON.stringify(written)} is past the end of ${calendar.engine} support (standard ended ${window.standardSupportEnds}, ${extendedEnd(window)}) ${from}: AWS no longer creates it and upgrades what runs it; upgrade to ${newer}`,
    };
  const optIn = rule.extendedOptIn;
  if (optIn?.enabled) return undefined;
  const billed = optIn ? `billed at ${optIn.cost}` : "billed at AWS's extended-support rate";
  const accept = optIn ? `, or accept the cost with ${optIn.key}: true` : "";
  return {
    path,
    message: `${JSON.stringify(written)} left ${calendar.engine} standard support on ${window.standardSupportEnds} ${from}: until ${window.extendedSupportEnds} it runs in extended support, ${billed}; upgrade to ${newer}${accept}`,
  };
}

function versionRules(p: Profile): VersionRule[] {
  const redis = p.redis.engineVersion;
  return [
    {
      path: "cluster.version",
      written: p.cluster.version,
      cycle: p.cluster.version,
      calendar: EKS_CALENDAR,
      extendedOptIn: { key: "cluster.extendedSupport", enabled: p.cluster.extendedSupport, cost: EKS_EXTENDED_SUPPORT_COST },
    },
    {
      path: "database.engineVersion",
      written: p.database.engineVersion,
      cycle: p.database.engineVersion,
      calendar: RDS_POSTGRES_CALENDAR,
    },
    // The calendar is Redis OSS's; Valkey's versions are checked against ElastiCache's list (unknownVersionIssues).
    ...(p.redis.engine === "redis"
      ? [{ path: "redis.engineVersion", written: redis, cycle: redis.split(".")[0]!, calendar: ELASTICACHE_REDIS_CALENDAR }]
      : []),
  ];
}

/**
 * Engine versions AWS does not have on any day (aws-rules.ts runs this with the profile's rules):
 * an EKS or RDS for PostgreSQL version its calendar does not list, a Redis OSS version ElastiCache
 * does not create.
 */
export function unknownVersionIssues(p: Profile): ProfileIssue[] {
  if (p.platform !== "aws") return [];
  // Redis is pinned by major.minor: the list of those ElastiCache creates says more than the majors' calendar.
  const issues = versionRules(p).flatMap((r) => (r.path === "redis.engineVersion" ? [] : (unknownVersionIssue(r) ?? [])));
  const redis = p.redis.engineVersion;
  const valkey = dataTierLimits.elasticache.valkeyVersions.versions;
  if (p.redis.engine === "valkey") {
    if (!valkey.includes(redis))
      issues.push({
        path: "redis.engineVersion",
        message: `${JSON.stringify(redis)} is not a Valkey version ElastiCache creates (${valkey.join(", ")}); use ${valkey.at(-1)}`,
      });
  } else if (!ELASTICACHE_REDIS_VERSIONS.includes(redis))
    issues.push({
      path: "redis.engineVersion",
      message: `${JSON.stringify(redis)} is not a Redis OSS version ElastiCache creates (${ELASTICACHE_REDIS_VERSIONS.join(", ")}; 7.2 and later are Valkey only); use ${ELASTICACHE_REDIS_VERSIONS.at(-1)}`,
    });
  return issues;
}

/**
 * The engine versions of an AWS stack against their calendars on `today`: EKS (cluster.version,
 * with the cluster.extendedSupport opt-in), RDS for PostgreSQL majors (database.engineVersion) and
 * ElastiCache for Redis OSS majors (redis.engineVersion). Versions the calendars do not list are
 * unknownVersionIssues' (run when the profile is parsed).
 */
export function versionSupportIssues(p: Profile, today: Date): ProfileIssue[] {
  if (p.platform !== "aws") return [];
  const day = isoDay(today);
  return versionRules(p).flatMap((r) => versionIssue(r, day) ?? []);
}
