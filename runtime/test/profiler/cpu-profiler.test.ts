import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { httpDefaultAction, listenerRulePlan, NOT_FOUND_ACTION } from "../../../components/aws/load-balancer";
import {
  CPUProfiler,
  PROFILE_ADMIN_PATH,
  ProfileAbortedError,
  ProfileInProgressError,
  ProfileOptionsError,
  ProfileTrigger,
} from "../../src/profiler";

let dir: string;

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), "uaip-profiler-"));
});

afterEach(() => {
  rmSync(dir, { recursive: true, force: true });
});

function spin(ms: number): number {
  let x = 0;
  const end = performance.now() + ms;
  while (performance.now() < end) x += Math.sqrt(x + 1);
  return x;
}

interface CpuProfile {
  nodes: { id: number; callFrame: { functionName: string } }[];
  startTime: number;
  endTime: number;
  samples: number[];
}

describe("CPUProfiler", () => {
  it("writes a valid .cpuprofile (nodes, startTime, endTime), owner-only, and resolves to its path", async () => {
    const profiler = new CPUProfiler({ directory: join(dir, "nested") });
    const done = profiler.startProfiling(300);
    expect(profiler.busy).toBe(true);
    await new Promise((r) => setTimeout(r, 20));
    spin(150);
    const file = await done;
    expect(profiler.busy).toBe(false);
    expect(file.startsWith(join(dir, "nested"))).toBe(true);
    expect(file).toMatch(/\.cpuprofile$/);
    expect(statSync(file).mode & 0o777).toBe(0o600);
    const profile = JSON.parse(readFileSync(file, "utf8")) as CpuProfile;
    expect(Array.isArray(profile.nodes)).toBe(true);
    expect(profile.nodes.length).toBeGreaterThan(1);
    expect(typeof profile.startTime).toBe("number");
    expect(profile.endTime - profile.startTime).toBeGreaterThanOrEqual(250_000); // µs
    expect(profile.nodes.some((n) => n.callFrame.functionName === "spin")).toBe(true);
  });

  it("refuses a second concurrent profile with a typed error, also from another instance; the first completes", async () => {
    const a = new CPUProfiler({ directory: dir });
    const b = new CPUProfiler({ directory: dir });
    const first = a.startProfiling(200);
    await expect(a.startProfiling(100)).rejects.toBeInstanceOf(ProfileInProgressError);
    await expect(b.startProfiling(100)).rejects.toMatchObject({ code: "UAIP_PROFILE_IN_PROGRESS" });
    await expect(first).resolves.toMatch(/\.cpuprofile$/);
    // Free again afterwards.
    await expect(b.startProfiling(50)).resolves.toMatch(/\.cpuprofile$/);
  });

  it("caps the duration: longer than maxDurationMs is refused by name, not shortened", async () => {
    const p = new CPUProfiler({ directory: dir, maxDurationMs: 1_000 });
    await expect(p.startProfiling(1_001)).rejects.toThrow(ProfileOptionsError);
    await expect(p.startProfiling(0)).rejects.toThrow(
      /CPU profiler durationMs: .*expected an integer number of ms \(maxDurationMs\) from 1 to 1000, got 0/,
    );
    expect(p.busy).toBe(false);
    expect(() => new CPUProfiler({ maxDurationMs: -1 })).toThrow(/CPU profiler maxDurationMs/);
  });

  it("close() aborts a running profile: typed rejection, nothing written, and the slot is free", async () => {
    const p = new CPUProfiler({ directory: dir });
    const running = p.startProfiling(10_000);
    await new Promise((r) => setTimeout(r, 50));
    p.close();
    await expect(running).rejects.toBeInstanceOf(ProfileAbortedError);
    expect(readdirSync(dir)).toEqual([]);
    expect(p.busy).toBe(false);
  });
});

describe("ProfileTrigger (admin HTTP endpoint)", () => {
  const TOKEN = "a-long-admin-token-from-the-secret";
  let server: Server;
  let base: string;

  async function start(trigger: ProfileTrigger): Promise<void> {
    server = createServer((req, res) => {
      if (trigger.handle(req, res)) return;
      res.writeHead(404).end();
    });
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  }

  afterEach(async () => {
    await new Promise((r) => server.close(r));
  });

  it("is off without a token: the path is a plain 404", async () => {
    const trigger = new ProfileTrigger({ profiler: new CPUProfiler({ directory: dir }) });
    expect(trigger.enabled).toBe(false);
    await start(trigger);
    expect((await fetch(`${base}${PROFILE_ADMIN_PATH}?seconds=0.1`, { method: "POST" })).status).toBe(404);
  });

  it("needs the bearer token, POST and a valid duration; returns the profile; 409 while one runs", async () => {
    await start(new ProfileTrigger({ profiler: new CPUProfiler({ directory: dir, maxDurationMs: 5_000 }), token: TOKEN }));
    const url = `${base}${PROFILE_ADMIN_PATH}`;
    const noAuth = await fetch(`${url}?seconds=0.1`, { method: "POST" });
    expect(noAuth.status).toBe(401);
    expect(noAuth.headers.get("www-authenticate")).toMatch(/^Bearer/);
    expect((await fetch(`${url}?seconds=0.1`, { method: "POST", headers: { Authorization: `Bearer ${TOKEN}x` } })).status).toBe(
      401,
    );
    const auth = { Authorization: `Bearer ${TOKEN}` };
    // What the ALB does forward (/<service>/*) never reaches the trigger, even with the token.
    expect(
      (await fetch(`${base}/agent-intelligence${PROFILE_ADMIN_PATH}?seconds=0.1`, { method: "POST", headers: auth })).status,
    ).toBe(404);
    expect((await fetch(url, { headers: auth })).status).toBe(405);
    const tooLong = await fetch(`${url}?seconds=60`, { method: "POST", headers: auth });
    expect(tooLong.status).toBe(400);
    expect(((await tooLong.json()) as { error: { code: string } }).error.code).toBe("UAIP_PROFILE_OPTIONS_INVALID");
    expect((await fetch(`${url}?seconds=abc`, { method: "POST", headers: auth })).status).toBe(400);

    const first = fetch(`${url}?seconds=0.3`, { method: "POST", headers: auth });
    await new Promise((r) => setTimeout(r, 50));
    const second = await fetch(`${url}?seconds=0.1`, { method: "POST", headers: auth });
    expect(second.status).toBe(409);
    const ok = await first;
    expect(ok.status).toBe(200);
    expect(ok.headers.get("content-disposition")).toMatch(/attachment; filename="cpu-.*\.cpuprofile"/);
    const profile = (await ok.json()) as CpuProfile;
    expect(profile).toEqual(
      expect.objectContaining({ nodes: expect.any(Array), startTime: expect.any(Number), endTime: expect.any(Number) }),
    );
  });
});

describe("the admin path is never routed by the ALB", () => {
  /** ALB path-pattern semantics: case-sensitive, `*` any characters, `?` one character. */
  const albMatches = (pattern: string, path: string) =>
    new RegExp(
      `^${pattern
        .replace(/[.+^${}()|[\]\\]/g, "\\$&")
        .replace(/\*/g, ".*")
        .replace(/\?/g, ".")}$`,
    ).test(path);

  it("matches no service's listener rule, even for a service named admin", () => {
    const rules = listenerRulePlan([
      { name: "agent-intelligence", port: 3001 },
      { name: "orchestration-pipeline", port: 3002 },
      { name: "capability-registry", port: 3003 },
      { name: "admin", port: 3004 },
    ]);
    const patterns = rules.flatMap((r) => r.pathPatterns);
    expect(patterns.some((p) => albMatches(p, "/agent-intelligence/items/1"))).toBe(true); // the matcher works
    expect(patterns.filter((p) => albMatches(p, PROFILE_ADMIN_PATH))).toEqual([]);
    // Unmatched paths get the ALB's own fixed 404 (HTTP listener without a certificate; the HTTPS one uses the same action).
    expect(httpDefaultAction(false)).toBe(NOT_FOUND_ACTION);
  });

  it("cannot be a service prefix: a service name may not start with '_'", () => {
    expect(() => listenerRulePlan([{ name: PROFILE_ADMIN_PATH.split("/")[1], port: 3001 }])).toThrow(/not a DNS-1123 label/);
  });
});
