// Another Redis client, in its own process so the invalidating process's event loop does not skew it:
// loops GET <key> until "stop" arrives on stdin, then prints the latencies (ms) as JSON.
// Args: url key [standalone|cluster] (cluster: a Cluster client seeded with the url's node).
"use strict";
const { Cluster, Redis } = require("ioredis");

const [url, key, mode] = process.argv.slice(2);
const client = mode === "cluster" ? new Cluster([url], { scaleReads: "master" }) : new Redis(url);
const latencies = [];
let running = true;
process.stdin.on("data", () => (running = false));

(async () => {
  await client.get(key);
  process.stdout.write("ready\n");
  while (running) {
    const t = performance.now();
    await client.get(key);
    latencies.push(performance.now() - t);
    await new Promise((r) => setImmediate(r)); // let the stop message in
  }
  process.stdout.write(JSON.stringify(latencies) + "\n");
  await client.quit();
})();
