import { spawnSync } from "node:child_process";
import { join } from "node:path";

const ROOT = join(__dirname, "..", "..", "..");
const TSX = join(ROOT, "node_modules", ".bin", "tsx");

/**
 * close() must release everything even while Redis is unreachable: a service closing during an
 * outage has to exit, not linger on a reconnect or disconnect timer.
 */
it.each([
  [
    "RedisStore",
    `const s = new RedisStore({ url: "redis://127.0.0.1:1" }); await new Promise((r) => setTimeout(r, 300)); await s.close();`,
  ],
  [
    "CacheManager",
    `const c = new CacheManager({ url: "redis://127.0.0.1:1" }); await new Promise((r) => setTimeout(r, 300)); await c.close();`,
  ],
])("%s closed during an outage lets the process exit promptly", (_name, body) => {
  const src = join(ROOT, "runtime", "src");
  const script = `import { CacheManager } from "${join(src, "cache")}"; import { RedisStore } from "${join(src, "ratelimit")}";
(async () => { ${body} console.log("closed", Date.now()); process.on("exit", () => console.log("exit", Date.now())); })();`;
  const run = spawnSync(TSX, ["-e", script], { encoding: "utf8", timeout: 20_000 });
  const closed = Number(/closed (\d+)/.exec(run.stdout)?.[1]);
  const exited = Number(/exit (\d+)/.exec(run.stdout)?.[1]);
  expect(run.status).toBe(0);
  // ioredis' default 2 s disconnect timer would show here as ~2000 ms.
  expect(exited - closed).toBeLessThan(1_000);
});
