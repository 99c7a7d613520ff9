import { Redis } from "ioredis";
import { RedisServer } from "../../tools/local-servers/redis-server";

// The servers live under tools/local-servers (npm run load and npm run bench start them too).
export { freePort, requireBinary, SYSTEM_PACKAGES_INSTALL } from "../../tools/local-servers/binaries";
export { RedisServer };

/**
 * Lua script calls (EVALSHA + EVAL) the server behind `client` has run so far, from INFO commandstats:
 * take it before and after to count the round trips a piece of code cost.
 */
export async function scriptCalls(client: { info(section: "commandstats"): Promise<string> }): Promise<number> {
  const stats = await client.info("commandstats");
  return [...stats.matchAll(/cmdstat_(?:evalsha|eval):calls=(\d+)/g)].reduce((sum, m) => sum + Number(m[1]), 0);
}

/**
 * One redis-server for the whole test file and a raw client on it (INFO, keys), started in beforeAll
 * and stopped in afterAll; a server a test paused (pause(), a hung Redis) is resumed first so it stops.
 * Read `server` and `raw` inside tests and hooks, once beforeAll has run.
 */
export function useRedisServer(): { readonly server: RedisServer; readonly raw: Redis } {
  const fixture = {} as { server: RedisServer; raw: Redis };
  beforeAll(async () => {
    fixture.server = await RedisServer.start();
    fixture.raw = new Redis(fixture.server.url);
  });
  afterAll(async () => {
    fixture.server?.resume();
    fixture.raw?.disconnect();
    await fixture.server?.stop();
  });
  return fixture;
}
