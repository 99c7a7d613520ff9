/**
 * RedisStore at its edges (issue #22, mutation survivors): each option refused by name, the owned
 * connection's password and TLS, the typed errors of every path while Redis hangs, checks issued before
 * the first connection, and local tokens answering without a script call. Real redis-server throughout.
 */
import { Redis } from "ioredis";
import { RateLimitOptionsError, RateLimitStoreError } from "../../src/ratelimit/errors";
import { RedisStore, type RedisStoreOptions } from "../../src/ratelimit/redis-store";
import { RedisServer, scriptCalls, useRedisServer } from "../../../test/helpers/redis";

const fx = useRedisServer();

function refusal(options: unknown): RateLimitOptionsError {
  try {
    new RedisStore(options as RedisStoreOptions);
  } catch (err) {
    expect(err).toBeInstanceOf(RateLimitOptionsError);
    return err as RateLimitOptionsError;
  }
  throw new Error(`expected RedisStore(${JSON.stringify(options)}) to be refused`);
}

describe("RedisStore options refused by name", () => {
  it("a client that is no ioredis client, an unparseable URL, a bad keyPrefix", () => {
    expect(refusal({ client: { get: () => undefined } }).key).toBe("client");
    const url = refusal({ url: "redis://[::1" });
    expect(url.key).toBe("url");
    expect(url.message).toContain("not a parseable URL");
    expect(url.message).toContain("RedisStore");
    for (const keyPrefix of ["", 7, "a{b", "a}"])
      expect(refusal({ url: "redis://127.0.0.1:1", keyPrefix }).key).toBe("keyPrefix");
  });

  it("nowhere to connect: no client, url or host (options absent or empty)", () => {
    for (const options of [undefined, {}, { port: 6379 }]) {
      const err = refusal(options);
      expect(err.key).toBe("store");
      expect(err.message).toMatch(/`client`, `url` or `host`/);
    }
  });

  it.each<[string, Partial<RedisStoreOptions>]>([
    ["url", { url: "redis://127.0.0.1:1" }],
    ["host", { host: "127.0.0.1" }],
    ["password", { password: "x" }],
    ["tls", { tls: true }],
    ["redisOptions", { redisOptions: {} }],
    ["commandTimeoutMs", { commandTimeoutMs: 10 }],
    ["mode", { mode: "standalone" }],
  ])("an injected client with the connection option %s: refused, saying to configure the client", (_name, extra) => {
    const client = new Redis({ lazyConnect: true });
    const err = refusal({ client, ...extra });
    expect(err.key).toBe("client");
    expect(err.message).toContain("configure the injected client yourself");
    client.disconnect();
  });
});

describe("RedisStore's owned connection", () => {
  it("sends the password (a server with requirepass answers), and without it the check fails typed", async () => {
    const locked = await RedisServer.start(["--requirepass", "s3cret-token"]);
    const good = new RedisStore({ url: locked.url, password: "s3cret-token", commandTimeoutMs: 2_000 });
    await good.ready();
    expect(await good.hit("k", 60_000, 5)).toMatchObject({ allowed: true, remaining: 4 });
    const bad = new RedisStore({ url: locked.url, commandTimeoutMs: 2_000, firstConnectWaitMs: 300 });
    await expect(bad.hit("k", 60_000, 5)).rejects.toBeInstanceOf(RateLimitStoreError);
    await Promise.all([good.close(), bad.close()]);
    await locked.stop();
  });

  it("tls: true never talks plaintext to a plain server: the check fails typed", async () => {
    const store = new RedisStore({ url: fx.server.url, tls: true, commandTimeoutMs: 2_000, firstConnectWaitMs: 300 });
    await expect(store.hit("k", 60_000, 5)).rejects.toBeInstanceOf(RateLimitStoreError);
    expect(store.client.status).not.toBe("ready");
    await store.close();
  });
});

describe("RedisStore while Redis hangs (SIGSTOP): every path rejects with a typed error naming the cause", () => {
  afterEach(() => fx.server.resume());

  it.each([
    ["hit, reserve 1, unbatched", { batching: false }, (s: RedisStore) => s.hit("h1", 60_000, 5), "check failed"],
    ["hit, reserve 4, unbatched", { batching: false, reserve: 4 }, (s: RedisStore) => s.hit("h4", 60_000, 5), "check failed"],
    ["weighted hit", {}, (s: RedisStore) => s.hit("w", 60_000, 5, 2), "operation failed"],
    ["peek", {}, (s: RedisStore) => s.peek("p", 60_000, 5), "operation failed"],
    ["adjust", {}, (s: RedisStore) => s.adjust("a", 60_000, 5, 1), "operation failed"],
    ["delete", {}, (s: RedisStore) => s.delete("d"), "operation failed"],
  ] as const)("%s", async (_name, options, call, words) => {
    const store = new RedisStore({ url: fx.server.url, commandTimeoutMs: 100, ...options });
    await store.ready();
    fx.server.pause();
    const err = (await call(store).catch((e: unknown) => e)) as RateLimitStoreError;
    expect(err).toBeInstanceOf(RateLimitStoreError);
    expect(err.message).toContain(`redis rate-limit ${words}`);
    expect(err.message).toMatch(/timed out/i);
    expect(err.cause).toBeInstanceOf(Error);
    fx.server.resume();
    await store.close();
  });
});

describe("RedisStore before its first connection", () => {
  it("peek, adjust and delete issued at once wait for the connection instead of failing", async () => {
    const store = new RedisStore({
      url: fx.server.url,
      keyPrefix: "first:",
      commandTimeoutMs: 2_000,
      firstConnectWaitMs: 10_000,
    });
    expect(store.client.status).not.toBe("ready");
    const [peeked, adjusted, deleted] = await Promise.all([
      store.peek("k", 60_000, 5),
      store.adjust("k", 60_000, 5, 2),
      store.delete("other"),
    ]);
    expect(peeked).toMatchObject({ allowed: true, remaining: 5 });
    expect(adjusted).toMatchObject({ remaining: 3 });
    expect(deleted).toBe(false);
    await store.close();
  });
});

describe("RedisStore reserve: held tokens answer hit() without a script call", () => {
  it("n sequential hits of one key cost far fewer script calls than n (slow start 1, 2, 4, 8, ...)", async () => {
    const store = new RedisStore({ url: fx.server.url, keyPrefix: "held:", commandTimeoutMs: 2_000, reserve: 16 });
    await store.ready();
    const before = await scriptCalls(fx.raw);
    const n = 40;
    for (let i = 0; i < n; i++) {
      const held = store.reserved("k");
      expect((await store.hit("k", 60_000, 1_000_000)).allowed).toBe(true);
      // A hit admitted from held tokens uses exactly one of them.
      if (held > 0) expect(store.reserved("k")).toBe(held - 1);
    }
    const calls = (await scriptCalls(fx.raw)) - before;
    // Asks of 1, 2, 4, 8, 16, 16, ... tokens: 40 hits need 1 + 2 + 4 + 8 + 16 + 16 > 40, six calls; one per hit without tokens.
    expect(calls).toBeLessThanOrEqual(8);
    await store.close();
  });
});

describe("RedisStore peek / adjust / delete refuse typed when Redis may not be called", () => {
  it("while the breaker is open: the breaker's error at once, though Redis answers again", async () => {
    const store = new RedisStore({
      url: fx.server.url,
      commandTimeoutMs: 100,
      breaker: { failureThreshold: 1, cooldownMs: 60_000 },
    });
    await store.ready();
    fx.server.pause();
    await expect(store.peek("open", 60_000, 5)).rejects.toBeInstanceOf(RateLimitStoreError);
    fx.server.resume();
    expect(store.state).toBe("open");
    for (const call of [
      () => store.peek("open", 60_000, 5),
      () => store.adjust("open", 60_000, 5, 1),
      () => store.delete("open"),
    ])
      await expect(call()).rejects.toThrow(/circuit breaker is open/);
    await store.close();
  });

  it("once the first-connection wait is over and the client is still not ready: 'not ready', naming its status", async () => {
    const store = new RedisStore({ url: "redis://127.0.0.1:1", commandTimeoutMs: 100, firstConnectWaitMs: 30 });
    await new Promise((r) => setTimeout(r, 100));
    for (const call of [() => store.peek("nr", 60_000, 5), () => store.adjust("nr", 60_000, 5, 1), () => store.delete("nr")]) {
      const err = (await call().catch((e: unknown) => e)) as Error;
      expect(err).toBeInstanceOf(RateLimitStoreError);
      expect(err.message).toMatch(/redis is not ready \(status \w+\)/);
      expect(err.message).not.toContain("status ready");
    }
    await store.close();
  });
});

describe("RedisStore's own client while Redis is unreachable", () => {
  it("handles the client's 'error' events (an unhandled one throws, and would end the process): failures surface per call", async () => {
    const store = new RedisStore({ url: "redis://127.0.0.1:1", firstConnectWaitMs: 0 });
    expect(() => store.client.emit("error", new Error("connection lost"))).not.toThrow();
    await expect(store.hit("k", 60_000, 5)).rejects.toBeInstanceOf(RateLimitStoreError);
    await store.close();
  });
});

describe("RedisStore close()", () => {
  it("ends a client it created; leaves an injected one open, with none of its own listeners left on it", async () => {
    const owned = new RedisStore({ url: fx.server.url, commandTimeoutMs: 2_000 });
    await owned.ready();
    await owned.close();
    // QUIT is answered before the socket closes: poll briefly for the end.
    for (let i = 0; i < 100 && owned.client.status !== "end"; i++) await new Promise((r) => setTimeout(r, 20));
    expect(owned.client.status).toBe("end");

    const client = new Redis(fx.server.url, { enableOfflineQueue: false });
    await new Promise((r) => client.once("ready", r));
    const listeners = client.listenerCount("ready");
    const store = new RedisStore({ client, reserve: 4 });
    expect(client.listenerCount("ready")).toBeGreaterThan(listeners);
    await store.close();
    expect(client.listenerCount("ready")).toBe(listeners);
    expect(client.status).toBe("ready");
    expect(await client.ping()).toBe("PONG");
    client.disconnect();
  });
});
