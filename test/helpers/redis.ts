// The servers live under tools/local-servers (npm run load and npm run bench start them too).
export { freePort, requireBinary, SYSTEM_PACKAGES_INSTALL } from "../../tools/local-servers/binaries";
export { RedisServer } from "../../tools/local-servers/redis-server";

/**
 * Lua script calls (EVALSHA + EVAL) the server behind `client` has run so far, from INFO commandstats:
 * take it before and after to count the round trips a piece of code cost.
 */
export async function scriptCalls(client: { info(section: "commandstats"): Promise<string> }): Promise<number> {
  const stats = await client.info("commandstats");
  return [...stats.matchAll(/cmdstat_(?:evalsha|eval):calls=(\d+)/g)].reduce((sum, m) => sum + Number(m[1]), 0);
}
