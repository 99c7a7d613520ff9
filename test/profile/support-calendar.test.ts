import fc from "fast-check";
import calendars from "../../vendor/aws/engine-support-calendars.json";
import { parseConfig } from "../../profile/parse";
import type { Profile } from "../../profile/schema";
import type { SupportWindow } from "../../profile/aws-catalog";
import {
  inStandardSupport,
  isoDay,
  supportPhase,
  unknownVersionIssues,
  versionSupportIssues,
} from "../../profile/support-calendar";
import { ROOT } from "../helpers/plan";
import { listStacks, readStackConfig } from "../../tools/stack-file";
import { parseIssues } from "../helpers/profile-issues";

/** The day the issue was filed against: 1.33 and 1.34 are past standard support, 1.35 is not. */
const TODAY = new Date("2026-12-06T12:00:00Z");
const day = (iso: string) => new Date(`${iso}T00:00:00Z`);
const addDays = (iso: string, n: number) => new Date(day(iso).getTime() + n * 86_400_000);

/** Only the issues of one key: at historical dates the other engines' pins are out of range too. */
const about = (path: string, issues: { path: string }[]) => issues.filter((i) => i.path === path);

function withVersions(v: { k8s?: string; extended?: boolean; pg?: string; redis?: string }): Profile {
  const p = parseConfig({ environment: "dev" });
  return {
    ...p,
    cluster: { ...p.cluster, version: v.k8s ?? p.cluster.version, extendedSupport: v.extended ?? false },
    database: { ...p.database, engineVersion: v.pg ?? p.database.engineVersion },
    redis: { ...p.redis, engineVersion: v.redis ?? p.redis.engineVersion },
  };
}

describe("the vendored calendars", () => {
  it("agree with the dates the issue quotes from AWS's EKS lifecycle (independent copy of the source's values)", () => {
    const end = (cycle: string) => calendars.eks.releases.find((r) => r.cycle === cycle)?.standardSupportEnds;
    expect([end("1.33"), end("1.34"), end("1.35")]).toEqual(["2026-07-29", "2026-12-02", "2027-03-27"]);
    for (const c of [calendars.eks, calendars.rdsPostgresql, calendars.elasticacheRedis])
      expect(c.source).toMatch(/^https:\/\/github\.com\/endoflife-date\/endoflife\.date\/blob\/[0-9a-f]{40}\/products\//);
  });
});

describe("EKS: cluster.version against the calendar on the day of the plan", () => {
  it("1.33 and 1.34 are refused on 2026-12-06, naming the 6× cost, the versions to move to and the opt-in", () => {
    for (const k8s of ["1.33", "1.34"]) {
      const [issue, ...rest] = versionSupportIssues(withVersions({ k8s }), TODAY);
      expect(rest).toEqual([]);
      expect(issue).toEqual({
        path: "cluster.version",
        message: expect.stringMatching(
          new RegExp(
            `^"${k8s.replace(".", "\\.")}" left EKS Kubernetes standard support on 2026-\\d\\d-\\d\\d .*6× the control-plane price.*upgrade to 1\\.36 \\(until 2027-08-02\\), 1\\.35 \\(until 2027-03-27\\), or accept the cost with cluster\\.extendedSupport: true$`,
          ),
        ),
      });
    }
  });

  it("1.35 passes; 1.33 passes with cluster.extendedSupport: true (in extended support until 2027-07-29)", () => {
    expect(versionSupportIssues(withVersions({ k8s: "1.35" }), TODAY)).toEqual([]);
    expect(versionSupportIssues(withVersions({ k8s: "1.33", extended: true }), TODAY)).toEqual([]);
  });

  it('"1.0" and "1.99" are not EKS versions, refused on any day when the profile is parsed; past extended support is refused even with the opt-in', () => {
    for (const k8s of ["1.0", "1.99"]) {
      expect(parseIssues({ environment: "dev", cluster: { version: k8s } })).toEqual([
        {
          path: "cluster.version",
          message: expect.stringMatching(
            /is not a version AWS offers for EKS Kubernetes .*the newest it lists are 1\.36, 1\.35, 1\.34, 1\.33 \(pick one/,
          ),
        },
      ]);
      expect(versionSupportIssues(withVersions({ k8s }), TODAY)).toEqual([]);
    }
    expect(versionSupportIssues(withVersions({ k8s: "1.29", extended: true }), TODAY)).toEqual([
      {
        path: "cluster.version",
        message: expect.stringMatching(
          /past the end of EKS Kubernetes support \(standard ended 2025-03-23, extended ended 2026-03-23\)/,
        ),
      },
    ]);
  });

  it("each dated version is in standard support up to the day before its end date, and refused from that day", () => {
    for (const r of calendars.eks.releases.filter((r) => typeof r.standardSupportEnds === "string")) {
      const end = r.standardSupportEnds as string;
      expect(about("cluster.version", versionSupportIssues(withVersions({ k8s: r.cycle }), addDays(end, -1)))).toEqual([]);
      expect(about("cluster.version", versionSupportIssues(withVersions({ k8s: r.cycle }), day(end)))).toHaveLength(1);
    }
  });

  it("property: on any day, a version is refused exactly when the day is outside [release, standard end), or past extended end with the opt-in", () => {
    const releases = calendars.eks.releases;
    fc.assert(
      fc.property(
        fc.constantFrom(...releases),
        fc.date({ min: day("2021-01-01"), max: day("2029-12-31"), noInvalidDate: true }),
        fc.boolean(),
        (r, date, extended) => {
          const iso = date.toISOString().slice(0, 10);
          const released = iso >= r.released;
          const standard = released && iso < (r.standardSupportEnds as string);
          const ext = r.extendedSupportEnds;
          const extendedOk = released && typeof ext === "string" && iso < ext;
          const accepted = standard || (extended && extendedOk);
          const issues = about("cluster.version", versionSupportIssues(withVersions({ k8s: r.cycle, extended }), date));
          expect(issues.length === 0).toBe(accepted);
        },
      ),
    );
  });
});

describe("RDS for PostgreSQL majors and ElastiCache Redis versions", () => {
  it.each([
    ["9", /"9" is not a version AWS offers for RDS for PostgreSQL .*the newest it lists are 18, 17, 16, 15/],
    ["99", /"99" is not a version AWS offers for RDS for PostgreSQL/],
  ])("database.engineVersion %j is refused when the profile is parsed", (pg, message) => {
    expect(parseIssues({ environment: "dev", database: { engineVersion: pg } })).toEqual([
      { path: "database.engineVersion", message: expect.stringMatching(message) },
    ]);
  });

  it("database.engineVersion 13 left standard support on 2026-02-28: refused on 2026-12-06", () => {
    expect(versionSupportIssues(withVersions({ pg: "13" }), TODAY)).toEqual([
      {
        path: "database.engineVersion",
        message: expect.stringMatching(
          /"13" left RDS for PostgreSQL standard support on 2026-02-28 .*billed at AWS's extended-support rate; upgrade to 18 .*14 \(until 2027-02-28\)$/,
        ),
      },
    ]);
  });

  it("RDS majors 14..18 pass on 2026-12-06; 14 is refused from 2027-02-28", () => {
    for (const pg of ["14", "15", "16", "17", "18"]) expect(versionSupportIssues(withVersions({ pg }), TODAY)).toEqual([]);
    expect(versionSupportIssues(withVersions({ pg: "14" }), day("2027-02-27"))).toEqual([]);
    expect(versionSupportIssues(withVersions({ pg: "14" }), day("2027-02-28")).map((i) => i.path)).toEqual([
      "database.engineVersion",
    ]);
  });

  it.each([
    [
      "99.0",
      /"99\.0" is not a Redis OSS version ElastiCache creates \(6\.0, 6\.2, 7\.0, 7\.1; 7\.2 and later are Valkey only\); use 7\.1/,
    ],
    [
      "7.2",
      /"7\.2" is not a Redis OSS version ElastiCache creates \(6\.0, 6\.2, 7\.0, 7\.1; 7\.2 and later are Valkey only\); use 7\.1/,
    ],
    ["7.5", /"7\.5" is not a Redis OSS version ElastiCache creates/],
    ["5.0", /"5\.0" is not a Redis OSS version ElastiCache creates/],
  ])("redis.engineVersion %j is refused when the profile is parsed", (redis, message) => {
    expect(parseIssues({ environment: "dev", redis: { engineVersion: redis } })).toEqual([
      { path: "redis.engineVersion", message: expect.stringMatching(message) },
    ]);
  });

  it("Redis 7.0/7.1 pass (7 has no end date yet); 6.2 passes until 2027-01-31 and is refused from that day", () => {
    for (const redis of ["7.0", "7.1", "6.0", "6.2"]) expect(versionSupportIssues(withVersions({ redis }), TODAY)).toEqual([]);
    expect(versionSupportIssues(withVersions({ redis: "6.2" }), day("2027-01-30"))).toEqual([]);
    expect(versionSupportIssues(withVersions({ redis: "6.2" }), day("2027-01-31")).map((i) => i.path)).toEqual([
      "redis.engineVersion",
    ]);
  });

  it("a local (Docker) profile has no AWS engines to check", () => {
    expect(parseIssues({ environment: "local", cluster: { version: "1.0" }, redis: { engineVersion: "99.0" } })).toEqual([]);
    expect(versionSupportIssues(parseConfig({ environment: "local", cluster: { version: "1.29" } }), TODAY)).toEqual([]);
    const local = parseConfig({ environment: "local" });
    const bogus = { ...local, cluster: { ...local.cluster, version: "1.0" }, redis: { ...local.redis, engineVersion: "99.0" } };
    expect(unknownVersionIssues(bogus)).toEqual([]);
  });
});

describe("the committed stacks and presets", () => {
  it.each(listStacks(ROOT))("%s pins versions in standard support on 2026-12-06", (stack) => {
    const { config } = readStackConfig(ROOT, stack);
    const raw: Record<string, unknown> = { environment: stack };
    for (const [key, value] of Object.entries(config)) {
      if (!key.startsWith("uaip:") || key === "uaip:grafanaAdminPassword" || key === "uaip:alertWebhookUrl") continue;
      try {
        raw[key.slice(5)] = JSON.parse(value);
      } catch {
        raw[key.slice(5)] = value;
      }
    }
    expect(versionSupportIssues(parseConfig(raw), TODAY)).toEqual([]);
  });
});

describe("support phases at their edges (issue #22: Stryker's survivors in profile/support-calendar.ts)", () => {
  const window = (w: Partial<SupportWindow> = {}): SupportWindow => ({
    cycle: "9",
    released: "2025-01-10",
    standardSupportEnds: "2026-01-10",
    extendedSupportEnds: "2027-01-10",
    ...w,
  });

  it("a version is unreleased before its release day, in standard support from it, in extended support from the standard end, ended from the extended end", () => {
    expect(supportPhase(window(), "2025-01-09")).toBe("unreleased");
    expect(supportPhase(window(), "2025-01-10")).toBe("standard");
    expect(supportPhase(window(), "2026-01-09")).toBe("standard");
    expect(supportPhase(window(), "2026-01-10")).toBe("extended");
    expect(supportPhase(window(), "2027-01-09")).toBe("extended");
    expect(supportPhase(window(), "2027-01-10")).toBe("ended");
  });

  it("no standard end announced: standard forever; no extended end announced: extended forever; none (null) or an unrecorded end (true): ended at once", () => {
    expect(supportPhase(window({ standardSupportEnds: false, extendedSupportEnds: false }), "2099-12-31")).toBe("standard");
    expect(supportPhase(window({ extendedSupportEnds: false }), "2099-12-31")).toBe("extended");
    expect(supportPhase(window({ extendedSupportEnds: null }), "2026-01-10")).toBe("ended");
    expect(supportPhase(window({ extendedSupportEnds: true }), "2026-01-10")).toBe("ended");
  });

  it("property: the phase is the interval the day falls in, compared as calendar days", () => {
    const days = fc.date({ min: new Date("2020-01-01T00:00:00Z"), max: new Date("2030-12-31T00:00:00Z"), noInvalidDate: true });
    fc.assert(
      fc.property(fc.array(days, { minLength: 4, maxLength: 4 }), ([a, b, c, d]) => {
        const [released, standardEnd, extendedEnd, day] = [a!, b!, c!, d!].map(isoDay);
        const w = window({ released, standardSupportEnds: standardEnd, extendedSupportEnds: extendedEnd });
        const expected =
          day < released ? "unreleased" : day < standardEnd! ? "standard" : day < extendedEnd! ? "extended" : "ended";
        expect(supportPhase(w, day!)).toBe(expected);
      }),
    );
  });

  it("isoDay is the UTC calendar day, whatever the time", () => {
    expect(isoDay(new Date("2026-12-06T23:59:59.999Z"))).toBe("2026-12-06");
    expect(isoDay(new Date("2026-12-07T00:00:00Z"))).toBe("2026-12-07");
  });

  it("inStandardSupport lists, newest first, exactly the versions in standard support on the day", () => {
    const releases = [
      window({ cycle: "3", released: "2026-06-01", standardSupportEnds: false }),
      window({ cycle: "2", released: "2025-06-01", standardSupportEnds: "2026-12-07" }),
      window({ cycle: "1", released: "2024-06-01", standardSupportEnds: "2026-12-06" }),
    ];
    const calendar = { engine: "E", source: "s", releases };
    expect(inStandardSupport(calendar, "2026-12-06")).toEqual(["3", "2"]);
    expect(inStandardSupport(calendar, "2026-05-31")).toEqual(["2", "1"]);
  });
});

describe("version messages: what each phase tells the user", () => {
  it("a version not yet released on the day names its release day and the versions to use", () => {
    const v136 = calendars.eks.releases.find((r) => r.cycle === "1.36")!;
    const before = addDays(v136.released, -1);
    expect(versionSupportIssues(withVersions({ k8s: "1.36" }), before).filter((i) => i.path === "cluster.version")).toEqual([
      {
        path: "cluster.version",
        message: expect.stringMatching(
          new RegExp(
            `^"1\\.36" is released on EKS Kubernetes only on ${v136.released}; use one in standard support on ${isoDay(before)}: 1\\.35, 1\\.34, 1\\.33$`,
          ),
        ),
      },
    ]);
    expect(about("cluster.version", versionSupportIssues(withVersions({ k8s: "1.36" }), day(v136.released)))).toEqual([]);
  });

  it("a version past all support says how its extended support ended: on a date, on an unrecorded date, or never offered", () => {
    const rds10 = calendars.rdsPostgresql.releases.find((r) => r.cycle === "10")!;
    const eks120 = calendars.eks.releases.find((r) => r.cycle === "1.20")!;
    const eks129 = calendars.eks.releases.find((r) => r.cycle === "1.29")!;
    expect([rds10.extendedSupportEnds, eks120.extendedSupportEnds]).toEqual([true, null]);
    const only = (path: string, issues: { path: string; message: string }[]) =>
      issues.filter((i) => i.path === path).map((i) => i.message);
    expect(only("database.engineVersion", versionSupportIssues(withVersions({ pg: "10" }), TODAY))).toEqual([
      expect.stringMatching(
        /^"10" is past the end of RDS for PostgreSQL support \(standard ended 2023-04-30, extended ended too\)/,
      ),
    ]);
    // EKS 1.20 ended before EKS offered extended support: the message once read "extended ended null".
    const [ended120] = only("cluster.version", versionSupportIssues(withVersions({ k8s: "1.20", extended: true }), TODAY));
    expect(ended120).toMatch(
      /^"1\.20" is past the end of EKS Kubernetes support \(standard ended 2022-11-01, no extended support offered\)/,
    );
    expect(ended120).not.toMatch(/null/);
    expect(only("cluster.version", versionSupportIssues(withVersions({ k8s: "1.29" }), TODAY))).toEqual([
      expect.stringContaining(
        `(standard ended ${eks129.standardSupportEnds}, extended ended ${eks129.extendedSupportEnds as string}) (${calendars.eks.aws}, vendor/aws/engine-support-calendars.json)`,
      ),
    ]);
  });

  it("Redis 6.2 in extended support names the version to move to with its end, 7 with none announced", () => {
    const [issue] = versionSupportIssues(withVersions({ redis: "6.2" }), day("2027-02-01"));
    expect(issue).toEqual({
      path: "redis.engineVersion",
      message: expect.stringMatching(
        /^"6\.2" left ElastiCache for Redis OSS standard support on 2027-01-31 .*billed at AWS's extended-support rate; upgrade to 7 \(no end date announced\)$/,
      ),
    });
  });

  it("Valkey: the versions ElastiCache lists pass (no Redis OSS calendar applies); others are refused naming the newest", () => {
    const valkey = (engineVersion: string) => parseIssues({ environment: "dev", redis: { engine: "valkey", engineVersion } });
    for (const v of ["7.2", "8.0", "8.1"]) expect(valkey(v)).toEqual([]);
    expect(valkey("7.1")).toEqual([
      { path: "redis.engineVersion", message: '"7.1" is not a Valkey version ElastiCache creates (7.2, 8.0, 8.1); use 8.1' },
    ]);
    const p = parseConfig({ environment: "dev", redis: { engine: "valkey", engineVersion: "8.1" } });
    expect(versionSupportIssues(p, day("2099-01-01")).map((i) => i.path)).not.toContain("redis.engineVersion");
  });

  it("a known RDS major parses; the EKS opt-in does not apply to RDS, which is refused past standard support all the same", () => {
    expect(parseIssues({ environment: "dev", database: { engineVersion: "10" } })).toEqual([]);
    expect(about("database.engineVersion", versionSupportIssues(withVersions({ pg: "13", extended: true }), TODAY))).toHaveLength(
      1,
    );
  });
});
