import { execFileSync } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { CODE_PATHS, gitCodeHistory, readCapacityFiles, staleness, type CodeHistory } from "../../tools/capacity-files";

const FIXTURE = JSON.parse(readFileSync(join(__dirname, "..", "fixtures", "capacity", "agent-intelligence.json"), "utf8"));

/** A real git repository with commits touching the files given, in order; returns each commit's hash. */
function repository(commits: { file: string; date: string }[]): { root: string; hashes: string[] } {
  const root = mkdtempSync(join(tmpdir(), "uaip-capacity-git-"));
  const git = (...args: string[]) => execFileSync("git", ["-C", root, ...args], { encoding: "utf8" }).trim();
  git("init", "-q");
  const hashes = commits.map(({ file, date }, i) => {
    mkdirSync(join(root, file, ".."), { recursive: true });
    writeFileSync(join(root, file), `change ${i}\n`);
    git("add", "-A");
    execFileSync("git", ["-C", root, "-c", "user.name=t", "-c", "user.email=t@t", "commit", "-q", "-m", `c${i}`], {
      env: { ...process.env, GIT_COMMITTER_DATE: date, GIT_AUTHOR_DATE: date },
    });
    return git("rev-parse", "HEAD");
  });
  return { root, hashes };
}

function write(dir: string, service: string, content: unknown): void {
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, `${service}.json`), typeof content === "string" ? content : JSON.stringify(content));
}

describe("capacity files: read through the shared schema, and older than the code or not", () => {
  it("fresh at the commit that last changed the code; stale after a later change to examples/ or runtime/src, not after other files", () => {
    const { root, hashes } = repository([
      { file: "examples/service.ts", date: "2026-12-01T10:00:00Z" },
      { file: "README.md", date: "2026-12-02T10:00:00Z" },
      { file: "runtime/src/db/pool.ts", date: "2026-12-03T10:00:00Z" },
    ]);
    const dir = join(root, "capacity");
    const at = (i: number) => ({ ...FIXTURE, service: "a", commit: hashes[i], measuredAt: "2026-12-01T10:05:00Z" });
    write(dir, "a", at(2));
    expect(readCapacityFiles(root, ["a"], { dir }).get("a")).toMatchObject({ state: "ok", path: "capacity/a.json" });
    expect(readCapacityFiles(root, ["a"], { dir }).get("a")).not.toHaveProperty("stale");
    write(dir, "a", at(1)); // README only after it: not the code
    expect(readCapacityFiles(root, ["a"], { dir }).get("a")).toMatchObject({
      state: "ok",
      stale: expect.stringContaining("1 later commit(s) changed examples/ or runtime/src/"),
    });
    write(dir, "a", at(0));
    expect(readCapacityFiles(root, ["a"], { dir }).get("a")).toMatchObject({
      stale: expect.stringContaining(`measured at commit ${hashes[0]}`),
    });
  });

  it("a history runs git once per question: its answers stay as first given; a new history sees later commits", () => {
    const { root, hashes } = repository([{ file: "examples/a.ts", date: "2026-12-01T10:00:00Z" }]);
    const history = gitCodeHistory(root);
    expect(history.changesSince(hashes[0])).toBe(0);
    expect(history.lastChange()).toEqual({ hash: hashes[0], date: "2026-12-01T10:00:00+00:00" });
    writeFileSync(join(root, "examples", "a.ts"), "changed\n");
    execFileSync("git", ["-C", root, "-c", "user.name=t", "-c", "user.email=t@t", "commit", "-qam", "c1"], {
      env: { ...process.env, GIT_COMMITTER_DATE: "2026-12-03T10:00:00Z", GIT_AUTHOR_DATE: "2026-12-03T10:00:00Z" },
    });
    expect(history.changesSince(hashes[0])).toBe(0);
    expect(history.lastChange()).toEqual({ hash: hashes[0], date: "2026-12-01T10:00:00+00:00" });
    const fresh = gitCodeHistory(root);
    expect(fresh.changesSince(hashes[0])).toBe(1);
    expect(fresh.lastChange()).toMatchObject({ date: "2026-12-03T10:00:00+00:00" });
  });

  it("a history whose repository has no commit touching the code says so", () => {
    const { root } = repository([{ file: "README.md", date: "2026-12-01T10:00:00Z" }]);
    expect(gitCodeHistory(root).lastChange()).toEqual({ unavailable: `no commit touches ${CODE_PATHS.join(", ")}` });
  });

  it.each([
    ["2026-12-03T09:59:59Z", true],
    ["2026-12-03T10:00:00Z", false],
  ])("a commit not in the history: measuredAt %s against the last change at 10:00:00 -> stale=%s", (measuredAt, stale) => {
    const { root } = repository([{ file: "runtime/src/index.ts", date: "2026-12-03T10:00:00Z" }]);
    const dir = join(root, "capacity");
    write(dir, "a", { ...FIXTURE, service: "a", commit: "abcdef1", measuredAt });
    const input = readCapacityFiles(root, ["a"], { dir }).get("a")!;
    expect(input.state).toBe("ok");
    expect("stale" in input).toBe(stale);
  });

  it("without git, the warning says it cannot tell (never a silent pass)", () => {
    const noGit: CodeHistory = {
      lastChange: () => ({ unavailable: "spawn git ENOENT" }),
      changesSince: () => ({ unavailable: "spawn git ENOENT" }),
    };
    expect(staleness(FIXTURE, noGit)).toBe(
      `git is unavailable (spawn git ENOENT), so whether commit ${FIXTURE.commit} (measured ${FIXTURE.measuredAt}) is older than the service's code (${CODE_PATHS.map((p) => `${p}/`).join(" or ")}) cannot be told`,
    );
    // A directory that is not a repository: git answers, with an error.
    const root = mkdtempSync(join(tmpdir(), "uaip-capacity-nogit-"));
    write(join(root, "capacity"), "a", { ...FIXTURE, service: "a" });
    expect(readCapacityFiles(root, ["a"], { dir: join(root, "capacity") }).get("a")).toMatchObject({
      stale: expect.stringContaining("git is unavailable"),
    });
  });

  it("missing, not JSON, or not a capacity file: each named, every bad key with its value at once", () => {
    const root = mkdtempSync(join(tmpdir(), "uaip-capacity-bad-"));
    const dir = join(root, "capacity");
    write(dir, "b", "{ not json");
    write(dir, "c", { ...FIXTURE, service: "c", commit: "HEAD", knee: { ...FIXTURE.knee, rateRpsPerCore: -5 } });
    write(dir, "d", { ...FIXTURE, service: "someone-else" });
    const history: CodeHistory = {
      lastChange: () => ({ hash: "f".repeat(40), date: "2000-01-01T00:00:00Z" }),
      changesSince: () => 0,
    };
    const inputs = readCapacityFiles(root, ["a", "b", "c", "d"], { dir, history });
    expect(inputs.get("a")).toEqual({ path: "capacity/a.json", state: "missing" });
    expect(inputs.get("b")).toMatchObject({ state: "invalid", problems: [expect.stringMatching(/^not JSON: /)] });
    expect(inputs.get("c")).toMatchObject({
      state: "invalid",
      problems: expect.arrayContaining([
        expect.stringMatching(/^commit: .*\(got "HEAD"\)$/),
        expect.stringMatching(/^knee\.rateRpsPerCore: .*\(got -5\)$/),
      ]),
    });
    expect(inputs.get("d")).toMatchObject({
      state: "invalid",
      problems: ['service: "someone-else" is not the service it is named for ("d")'],
    });
  });

  it("UAIP_CAPACITY_DIR points the reader elsewhere, and paths outside the repository show in full", () => {
    const root = mkdtempSync(join(tmpdir(), "uaip-capacity-root-"));
    const elsewhere = mkdtempSync(join(tmpdir(), "uaip-capacity-elsewhere-"));
    write(elsewhere, "a", { ...FIXTURE, service: "a" });
    const before = process.env.UAIP_CAPACITY_DIR;
    process.env.UAIP_CAPACITY_DIR = elsewhere;
    try {
      const history: CodeHistory = {
        lastChange: () => ({ hash: "f".repeat(40), date: "2000-01-01T00:00:00Z" }),
        changesSince: () => 0,
      };
      expect(readCapacityFiles(root, ["a"], { history }).get("a")).toMatchObject({
        state: "ok",
        path: join(elsewhere, "a.json"),
      });
    } finally {
      if (before === undefined) delete process.env.UAIP_CAPACITY_DIR;
      else process.env.UAIP_CAPACITY_DIR = before;
    }
  });
});
