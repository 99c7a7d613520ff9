/**
 * Issue #28: should the invalidation bus use sharded pub/sub (SSUBSCRIBE/SPUBLISH) on a cluster?
 * Measured here on a real 3-primary/3-replica cluster with the ioredis the runtime ships (see
 * runtime/README.md, "Redis Cluster", for the decision). Each test documents what delivers:
 * - ioredis' default Cluster (one subscriber connection) with SSUBSCRIBE (ioredis#1759);
 * - `shardedSubscribers: true` (one subscriber per primary), across every primary, through a
 *   CLUSTER FAILOVER and a killed primary;
 * - plain SUBSCRIBE/PUBLISH, which the bus uses, through the same faults.
 */
import { readFileSync } from "node:fs";
import { Cluster } from "ioredis";
import { useRedis } from "../../../test/helpers/redis-cluster";

const redis = useRedis("cluster");
const IOREDIS_VERSION = (JSON.parse(readFileSync(require.resolve("ioredis/package.json"), "utf8")) as { version: string })
  .version;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const report = (line: string) => process.env.UAIP_REPORT && console.log(`ioredis ${IOREDIS_VERSION}: ${line}`);

/** One channel name per primary, found with the server's own CLUSTER KEYSLOT and CLUSTER NODES. */
async function channelPerPrimary(tag: string): Promise<Map<number, string>> {
  const topology = await redis.cluster!.topology();
  const owner = (slot: number) =>
    topology.find(
      (n) =>
        n.role === "master" &&
        n.slots.some((r) => {
          const [lo, hi = lo] = r.split("-").map(Number);
          return slot >= lo && slot <= hi;
        }),
    )!.port;
  const found = new Map<number, string>();
  for (let i = 0; found.size < 3; i++) {
    const channel = `${tag}:${i}`;
    const port = owner((await redis.admin.call("CLUSTER", "KEYSLOT", channel)) as number);
    if (!found.has(port)) found.set(port, channel);
  }
  return found;
}

/** Publishes one message on each channel and returns the channels whose message arrived within `waitMs`. */
async function delivered(
  received: Set<string>,
  channels: string[],
  publish: (channel: string, message: string) => Promise<unknown>,
  waitMs = 1_000,
): Promise<string[]> {
  const id = Math.random().toString(36).slice(2);
  for (const c of channels) await publish(c, `${c}|${id}`).catch(() => undefined);
  const deadline = Date.now() + waitMs;
  while (Date.now() < deadline && !channels.every((c) => received.has(`${c}|${id}`))) await sleep(5);
  return channels.filter((c) => received.has(`${c}|${id}`));
}

const newCluster = (options: ConstructorParameters<typeof Cluster>[1] = {}) => {
  const c = new Cluster(redis.cluster!.startupNodes, { scaleReads: "master", ...options });
  c.on("error", () => undefined);
  return c;
};

/** Polls `delivered` until all channels deliver; the ms it took, or Infinity after `limitMs`. */
async function timeToDeliverAll(probe: () => Promise<string[]>, total: number, limitMs: number): Promise<number> {
  const start = Date.now();
  while (Date.now() - start < limitMs) {
    if ((await probe()).length === total) return Date.now() - start;
    await sleep(100);
  }
  return Number.POSITIVE_INFINITY;
}

/**
 * The two faults every variant goes through, in order: a replica's CLUSTER FAILOVER of the first primary, then the
 * (new) first primary killed. For each, what `probe` delivered right after and the ms until all `total` channels
 * delivered again (Infinity after the wait). The killed node is restarted before returning.
 */
async function deliveryThroughFaults(probe: () => Promise<string[]>, total: number, failoverWaitMs: number) {
  const before = await probe();
  const cluster = redis.cluster!;
  const [primary] = await cluster.primaries();
  const [replica] = await cluster.replicasOf(primary);
  await cluster.failover(replica);
  const afterFailover = await probe();
  const recoverFailover = await timeToDeliverAll(probe, total, failoverWaitMs);
  const [victim] = await cluster.primaries();
  await cluster.kill(victim);
  const afterKill = await probe();
  const recoverKill = await timeToDeliverAll(probe, total, 15_000);
  await cluster.restart(victim);
  return { before, afterFailover, recoverFailover, afterKill, recoverKill };
}

it("default Cluster client: SSUBSCRIBE does not deliver across the primaries (ioredis#1759: calls left unanswered)", async () => {
  const channels = [...(await channelPerPrimary("bus-default")).values()];
  const sub = newCluster();
  const pub = newCluster();
  const received = new Set<string>();
  sub.on("smessage", (c: string, m: string) => received.add(m));
  const answer = (c: string) =>
    Promise.race([
      sub.ssubscribe(c).then(
        () => "ok",
        (e: unknown) => String(e),
      ),
      sleep(2_000).then(() => "no answer in 2 s"),
    ]);
  const outcomes: string[] = [];
  for (const c of channels) outcomes.push(await answer(c));
  const got = await delivered(received, channels, (c, m) => pub.spublish(c, m));
  report(`default: ssubscribe ${outcomes.join(" | ")}; delivered ${got.length}/3`);
  // Measured three times at load 21-26: two of three SSUBSCRIBEs never answer, 0/3 delivered.
  expect(got.length).toBeLessThan(3);
  sub.disconnect();
  pub.disconnect();
});

it("shardedSubscribers: delivers on every primary, but after a CLUSTER FAILOVER the moved shard's channel stays silent", async () => {
  const perPrimary = await channelPerPrimary("bus-sharded");
  const channels = [...perPrimary.values()];
  const sub = newCluster({ shardedSubscribers: true });
  const pub = newCluster();
  const received = new Set<string>();
  sub.on("smessage", (c: string, m: string) => received.add(m));
  // One call per channel: ioredis refuses channels of several slots in one SSUBSCRIBE (CROSSSLOT, client-side).
  for (const c of channels) await sub.ssubscribe(c);
  const probe = () => delivered(received, channels, (c, m) => pub.spublish(c, m), 300);
  // 5 s of silence already disqualifies it for the bus: plain pub/sub delivers within 2 s of the same failover
  // (the next test). The evaluation run waited 15 s, in four runs alike; the suite waits 5 s.
  const { before, afterFailover, recoverFailover, afterKill, recoverKill } = await deliveryThroughFaults(probe, 3, 5_000);
  report(
    `sharded: before ${before.length}/3; right after failover ${afterFailover.length}/3, all 3 after ${recoverFailover} ms; right after kill ${afterKill.length}/3, all 3 after ${recoverKill} ms`,
  );
  expect(before).toHaveLength(3);
  // The finding (four runs alike): the channel of the shard that failed over delivers nothing for (at
  // least) 15 s, 5 s here, and nothing tells the subscriber. The bus has one channel, so a failover of its shard
  // would silence every invalidation while L1 keeps serving. If ioredis fixes it, this fails: re-evaluate.
  expect(afterFailover.length).toBeLessThan(3);
  expect(recoverFailover).toBe(Number.POSITIVE_INFINITY);
  // A killed primary refreshes the slots, which rebuilds every sharded subscriber (the stuck one too).
  expect(recoverKill).toBeLessThan(15_000);
  sub.disconnect();
  pub.disconnect();
}, 120_000);

it("plain SUBSCRIBE/PUBLISH (the bus): delivers through a CLUSTER FAILOVER and a killed primary", async () => {
  const sub = newCluster();
  const pub = newCluster();
  const received = new Set<string>();
  sub.on("message", (c: string, m: string) => received.add(m));
  await sub.subscribe("bus-plain");
  const probe = () => delivered(received, ["bus-plain"], (c, m) => pub.publish(c, m), 300);
  const { before, afterFailover, recoverFailover, afterKill, recoverKill } = await deliveryThroughFaults(probe, 1, 15_000);
  report(
    `plain: before ${before.length}/1; right after failover ${afterFailover.length}/1, after ${recoverFailover} ms; right after kill ${afterKill.length}/1, after ${recoverKill} ms`,
  );
  // Measured: delivered right after each (5-30 ms to the next message).
  expect(before).toHaveLength(1);
  expect(recoverFailover).toBeLessThan(2_000);
  expect(recoverKill).toBeLessThan(5_000);
  sub.disconnect();
  pub.disconnect();
}, 120_000);
