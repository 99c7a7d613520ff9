import { Registry } from "prom-client";
import type { WebSocket } from "ws";
import { BatcherClosedError, BatchFlushError, MessageBatcher, RealtimeOptionsError, WebSocketManager } from "../../src/realtime";
import { METRIC } from "../../src/metrics/names";
import { closeServer, histogramTotals, listen, openClient, sleep, waitFor } from "./helpers";

const cleanups: (() => Promise<unknown> | unknown)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

interface Stamped {
  i: number;
  /** performance.now() when addMessage was called (the client runs in this process, same clock). */
  at: number;
}

/** A manager on a loopback server and one client that records each frame it receives. */
async function socketPair(): Promise<{
  manager: WebSocketManager;
  frames: { at: number; batch: Stamped[] }[];
  client: WebSocket;
}> {
  const manager = new WebSocketManager({
    maxConnections: 10,
    heartbeatInterval: 60_000,
    reconnectStrategy: { initialDelay: 100, maxDelay: 1_000, factor: 2 },
  });
  const { server, url } = await listen();
  manager.attach(server);
  const client = await openClient(url);
  cleanups.push(
    () => closeServer(server),
    () => manager.drain(100),
    () => client.terminate(),
  );
  const frames: { at: number; batch: Stamped[] }[] = [];
  client.on("message", (data: Buffer) => frames.push({ at: performance.now(), batch: JSON.parse(data.toString()) as Stamped[] }));
  await waitFor(() => manager.size === 1);
  return { manager, frames, client };
}

async function counterValue(registry: Registry, name: string, labels: Record<string, string>): Promise<number> {
  const m = await registry.getSingleMetric(name)!.get();
  return m.values.find((v) => Object.entries(labels).every(([k, l]) => v.labels[k] === l))?.value ?? NaN;
}

describe("MessageBatcher", () => {
  it("sends 250 messages as 100 + 100 + 50, one frame per batch, every message within flushInterval + 20 ms", async () => {
    const { manager, frames } = await socketPair();
    const registry = new Registry();
    const flushInterval = 100;
    const batcher = new MessageBatcher<Stamped>({
      batchSize: 100,
      flushInterval,
      registry,
      broadcast: async (b) => void manager.broadcast(JSON.stringify(b)),
    });
    cleanups.push(() => batcher.close());
    // The shape is asserted on every run. The 20 ms bound is wall-clock time on a shared machine,
    // where one descheduling can exceed it: best of 3 runs. A window that restarts or never fires
    // misses it on every run (the 50 would wait ≥ 2 × flushInterval, or forever).
    const worst: number[] = [];
    for (let run = 0; run < 3 && !(worst.length && Math.min(...worst) <= flushInterval + 20); run++) {
      frames.length = 0;
      const adds: Promise<void>[] = [];
      for (let i = 0; i < 250; i++) adds.push(batcher.addMessage({ i, at: performance.now() }));
      await Promise.all(adds);
      await waitFor(() => frames.reduce((n, f) => n + f.batch.length, 0) === 250, 2_000, "all 250 delivered");

      expect(frames.map((f) => f.batch.length)).toEqual([100, 100, 50]);
      expect(frames.flatMap((f) => f.batch.map((m) => m.i))).toEqual([...Array(250).keys()]);
      // The 50 waited for the timer (not flushed early), so the window is real.
      expect(frames[2].at - frames[2].batch[0].at).toBeGreaterThanOrEqual(flushInterval - 5);
      worst.push(Math.max(...frames.flatMap((f) => f.batch.map((m) => f.at - m.at))));
    }
    expect(Math.min(...worst)).toBeLessThanOrEqual(flushInterval + 20);

    expect(await histogramTotals(registry, METRIC.batchSize)).toEqual({ count: 3 * worst.length, sum: 250 * worst.length });
    expect(await counterValue(registry, METRIC.batchFlushesTotal, { result: "success" })).toBe(3 * worst.length);
  });

  it("times the window from the first message: a steady trickle still flushes every flushInterval (no debounce)", async () => {
    const flushes: { at: number; size: number }[] = [];
    const batcher = new MessageBatcher<number>({
      batchSize: 100,
      flushInterval: 100,
      broadcast: async (b) => void flushes.push({ at: performance.now(), size: b.length }),
    });
    cleanups.push(() => batcher.close());
    // The first window, timed from the first message: a timer of flushInterval set right after that message is
    // due after the batcher's own, so when it fires (however late a loaded machine runs both) the first batch
    // was broadcast. A debounce re-arms on the second message, 25 ms later, and would not have flushed yet.
    let flushedWhenFirstWindowEnded: number | undefined;
    for (let i = 0; i < 20; i++) {
      await batcher.addMessage(i);
      if (i === 0) setTimeout(() => (flushedWhenFirstWindowEnded = flushes.length), batcher.flushInterval);
      await sleep(25);
    }
    await batcher.flush();
    // A debounce would never have flushed while adds kept coming every 25 ms.
    expect(flushes.length).toBeGreaterThanOrEqual(4);
    expect(flushedWhenFirstWindowEnded).toBe(1);
    expect(flushes.reduce((n, f) => n + f.size, 0)).toBe(20);
  });

  it("leftovers of a batch taken late (after a slow broadcast) keep their deadline: flushInterval after they were queued", async () => {
    const flushInterval = 1_000;
    const slowBroadcastMs = 800;
    const sent = new Map<string, number>();
    const batcher = new MessageBatcher<string>({
      batchSize: 2,
      flushInterval,
      broadcast: async (b) => {
        for (const m of b) sent.set(m, performance.now());
        if (b.includes("a")) await sleep(slowBroadcastMs); // the first batch's broadcast is slow
      },
    });
    cleanups.push(() => batcher.close());
    const queuedAt = performance.now();
    // a + b go out at once and their broadcast takes 800 ms; p + q complete the next batch, which waits for it;
    // r is left over when p + q are taken, 800 ms after r was queued.
    const adds = ["a", "b", "p", "q", "r"].map((m) => batcher.addMessage(m));
    await Promise.all(adds);
    await waitFor(() => sent.has("r"), 5_000);
    const waited = sent.get("r")! - queuedAt;
    // Due at queuedAt + flushInterval; restarting the wait when p + q were taken would send it at ~1800 ms.
    expect(waited).toBeGreaterThanOrEqual(flushInterval - 50);
    expect(waited).toBeLessThan(flushInterval + slowBroadcastMs / 2);
    expect(sent.get("p")! - queuedAt).toBeGreaterThanOrEqual(slowBroadcastMs - 50);
  });

  it("bounds the queue: addMessage waits while maxQueued are queued and resumes as batches go out", async () => {
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const sent: number[][] = [];
    const batcher = new MessageBatcher<number>({
      batchSize: 10,
      flushInterval: 1_000,
      maxQueued: 20,
      broadcast: async (b) => {
        await gate;
        sent.push(b);
      },
    });
    cleanups.push(() => batcher.close());
    let accepted = 0;
    let peak = 0;
    const producer = (async () => {
      for (let i = 0; i < 60; i++) {
        void batcher.addMessage(i).catch(() => undefined); // do not wait for flushes, only for room
        accepted++;
        peak = Math.max(peak, batcher.size);
        while (batcher.size >= batcher.maxQueued) await sleep(1);
      }
    })();
    // A producer that awaits addMessage itself is held back too.
    const awaited = (async () => {
      await sleep(50);
      await batcher.addMessage(1000);
    })();
    await sleep(100);
    expect(peak).toBeLessThanOrEqual(20);
    expect(batcher.size).toBeLessThanOrEqual(20);
    expect(sent).toHaveLength(0);
    release();
    await Promise.all([producer, awaited]);
    await batcher.flush();
    expect(accepted).toBe(60);
    expect(sent.flat().sort((a, b) => a - b)).toEqual([...Array(60).keys(), 1000]);
    expect(Math.max(...sent.map((b) => b.length))).toBeLessThanOrEqual(10);
  });

  it("close() drains the queue, then refuses new messages and wakes waiting producers", async () => {
    const sent: number[][] = [];
    const batcher = new MessageBatcher<number>({
      batchSize: 100,
      flushInterval: 10_000,
      broadcast: async (b) => void sent.push(b),
    });
    for (let i = 0; i < 30; i++) void batcher.addMessage(i);
    await batcher.close();
    expect(sent).toEqual([[...Array(30).keys()]]);
    await expect(batcher.addMessage(99)).rejects.toBeInstanceOf(BatcherClosedError);
    await expect(batcher.addMessage(99)).rejects.toMatchObject({ code: "UAIP_BATCHER_CLOSED" });

    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const full = new MessageBatcher<number>({ batchSize: 2, flushInterval: 10_000, maxQueued: 2, broadcast: () => gate });
    void full.addMessage(1);
    void full.addMessage(2).catch(() => undefined); // starts a flush that hangs on the gate
    const waiting = [full.addMessage(3), full.addMessage(4)]; // queue full: both wait
    const closing = full.close();
    for (const w of waiting) await expect(w).rejects.toBeInstanceOf(BatcherClosedError);
    release();
    await closing;
  });

  it("surfaces a failed broadcast to the caller whose message completed the batch, and counts it", async () => {
    const registry = new Registry();
    const batcher = new MessageBatcher<number>({
      batchSize: 3,
      flushInterval: 10_000,
      registry,
      broadcast: async () => {
        throw new Error("socket gone");
      },
    });
    void batcher.addMessage(1);
    void batcher.addMessage(2);
    const error = await batcher.addMessage(3).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(BatchFlushError);
    expect((error as BatchFlushError<number>).batch).toEqual([1, 2, 3]);
    expect((error as BatchFlushError).code).toBe("UAIP_BATCH_FLUSH_FAILED");
    expect(((error as Error).cause as Error).message).toBe("socket gone");
    expect(await counterValue(registry, METRIC.batchFlushesTotal, { result: "error" })).toBe(1);
    expect(await counterValue(registry, METRIC.batchFlushesTotal, { result: "success" })).toBe(0);
    await batcher.close();
  });

  it("never swallows a timer flush failure: onError gets it, or the next call throws it", async () => {
    const fail = async () => {
      throw new Error("down");
    };
    const seen: BatchFlushError[] = [];
    const withHandler = new MessageBatcher<number>({
      batchSize: 10,
      flushInterval: 20,
      broadcast: fail,
      onError: (e) => void seen.push(e),
    });
    await withHandler.addMessage(1);
    await waitFor(() => seen.length === 1);
    expect(seen[0].batch).toEqual([1]);
    await withHandler.close();

    const without = new MessageBatcher<number>({ batchSize: 10, flushInterval: 20, broadcast: fail });
    await without.addMessage(1);
    await sleep(60);
    await expect(without.addMessage(2)).rejects.toMatchObject({ code: "UAIP_BATCH_FLUSH_FAILED", batch: [1] });
    await without.addMessage(3); // reported once, then the batcher keeps working
    await expect(without.close()).rejects.toMatchObject({ batch: [3] });
  });

  it.each([
    ["batchSize", { batchSize: 0, flushInterval: 100 }, /batchSize: expected an integer from 1 to \d+, got 0/],
    ["flushInterval", { batchSize: 10, flushInterval: -5 }, /flushInterval: .*got -5/],
    [
      "maxQueued",
      { batchSize: 10, flushInterval: 100, maxQueued: 5 },
      /maxQueued: expected an integer >= batchSize \(10\), got 5/,
    ],
    ["broadcast", { batchSize: 10, flushInterval: 100, broadcast: "nope" }, /broadcast: expected a function/],
  ])("refuses a bad %s by name", (key, options, message) => {
    const make = () => new MessageBatcher({ broadcast: async () => undefined, ...(options as object) } as never);
    expect(make).toThrow(RealtimeOptionsError);
    expect(make).toThrow(message);
    try {
      make();
    } catch (e) {
      expect((e as RealtimeOptionsError).key).toBe(key);
    }
  });
});
