import type { Registry } from "prom-client";
import { BatcherClosedError, BatchFlushError, RealtimeOptionsError } from "./errors";
import { checkTopic } from "./topic";
import { BATCH_RESULT, BatchMetrics } from "./metrics";
import { duration, func, integer, object, validateOptions, type SpecFor } from "../options";
import { realtimeError } from "./options";
import { LABEL } from "../metrics/names";
import { setTimer } from "../timer";

export interface MessageBatcherOptions<T> {
  /** Flush as soon as this many messages are queued. @default 100 (the seed's) */
  batchSize?: number;
  /**
   * Flush a partial batch this many ms after its FIRST message was queued (seed: 100). The wait
   * never restarts on later adds (TanStack Pacer's debounce does, so a steady trickle never
   * flushes); DataLoader and Apollo time it from the first item too. So a message waits at most
   * `flushInterval` plus the time a previous broadcast still takes. @default 100 (the seed's, ms)
   */
  flushInterval?: number;
  /**
   * Sends one batch: the WebSocketManager sends it as ONE frame to each subscriber. `topic` is set for
   * the messages added with one (`addMessage(message, topic)`): send those to that topic's subscribers
   * only (`ws.publish(topic, ...)`); without a topic, to everyone (`ws.broadcast(...)`). Required, unless
   * a subclass defines a `broadcast(batch, topic?)` method (the seed's shape).
   */
  broadcast?: (batch: T[], topic?: string) => Promise<void>;
  /**
   * Queue bound: `addMessage` waits while this many messages are queued, so a producer faster
   * than `broadcast` is slowed down instead of growing the heap. @default 10 × batchSize
   */
  maxQueued?: number;
  /**
   * Receives the BatchFlushError of a flush nobody awaits (the `flushInterval` timer). Without it,
   * that error is kept and thrown by the next `addMessage`, `flush` or `close`: never swallowed.
   */
  onError?: (error: BatchFlushError<T>) => void;
  /** Registry for `uaip_batch_flushes_total` and `uaip_batch_size`. @default none (no metrics) */
  registry?: Registry;
}

/** The seed's batch size and flush interval (`private batchSize = 100; private flushInterval = 100; // ms`). */
const DEFAULT_BATCH_SIZE = 100;
const DEFAULT_FLUSH_INTERVAL_MS = 100;

const MESSAGE_BATCHER_OPTIONS_SPEC = {
  batchSize: integer(1, 1_000_000),
  flushInterval: duration(1),
  broadcast: func<(batch: unknown[], topic?: string) => Promise<void>>("a function (batch, topic?) => Promise<void>"),
  maxQueued: integer(1, 100_000_000),
  onError: func<(error: BatchFlushError<never>) => void>(),
  registry: object<Registry>("a prom-client Registry"),
} satisfies SpecFor<MessageBatcherOptions<unknown>>;

interface Queued<T> {
  message: T;
  topic: string | undefined;
  /** performance.now() when queued: the next timer is armed from the oldest queued message. */
  at: number;
}

/**
 * The seed's MessageBatcher: `addMessage(message)` queues; a batch of up to `batchSize` goes out
 * when the queue reaches `batchSize` or `flushInterval` after the first message of the batch.
 * Batches are broadcast one at a time, in order.
 */
export class MessageBatcher<T = unknown> {
  readonly batchSize: number;
  readonly flushInterval: number;
  readonly maxQueued: number;
  readonly #broadcast: (batch: T[], topic?: string) => Promise<void>;
  readonly #onError: ((error: BatchFlushError<T>) => void) | undefined;
  readonly #metrics: BatchMetrics | undefined;
  #queue: Queued<T>[] = [];
  #timer: NodeJS.Timeout | undefined;
  /** Tail of the chain of flushes: each batch starts after the previous broadcast settled. */
  #tail: Promise<void> = Promise.resolve();
  /** Producers waiting for room in the queue. */
  #waiters: { resolve: () => void; reject: (e: Error) => void }[] = [];
  #pendingError: BatchFlushError<T> | undefined;
  /** Full batches scheduled by addMessage and not yet taken from the queue. */
  #fullScheduled = 0;
  #closed = false;

  constructor(options: MessageBatcherOptions<T> = {}) {
    const where = "MessageBatcher";
    const o = validateOptions(where, options, MESSAGE_BATCHER_OPTIONS_SPEC, realtimeError);
    this.batchSize = o.batchSize ?? DEFAULT_BATCH_SIZE;
    this.flushInterval = o.flushInterval ?? DEFAULT_FLUSH_INTERVAL_MS;
    // The seed's MessageBatcher calls its own `this.broadcast(batch)`: a subclass may define it.
    const inherited = (this as unknown as { broadcast?: unknown }).broadcast;
    const broadcast =
      (o.broadcast as ((batch: T[], topic?: string) => Promise<void>) | undefined) ??
      (typeof inherited === "function" ? (inherited as (batch: T[], topic?: string) => Promise<void>).bind(this) : undefined);
    if (broadcast === undefined)
      throw new RealtimeOptionsError(
        "broadcast",
        `${where}: broadcast is required: new MessageBatcher({ broadcast: async (batch) => ws.broadcast(JSON.stringify(batch)) }), or a subclass with a broadcast(batch) method`,
      );
    if (o.maxQueued !== undefined && o.maxQueued < this.batchSize)
      throw new RealtimeOptionsError(
        "maxQueued",
        `${where}: maxQueued: expected an integer >= batchSize (${this.batchSize}), got ${o.maxQueued}; raise maxQueued or lower batchSize`,
      );
    this.maxQueued = o.maxQueued ?? 10 * this.batchSize;
    this.#broadcast = broadcast;
    this.#onError = o.onError as ((error: BatchFlushError<T>) => void) | undefined;
    this.#metrics = o.registry ? new BatchMetrics(o.registry) : undefined;
  }

  /** Messages queued and not yet handed to `broadcast`. */
  get size(): number {
    return this.#queue.length;
  }

  /**
   * Queues `message`. Resolves once it is queued, after waiting for room when the queue is full;
   * when it completes a batch, resolves after that batch's broadcast (rejecting with its
   * BatchFlushError), as in the seed. Rejects with BatcherClosedError after `close()`.
   */
  async addMessage(message: T, topic?: string): Promise<void> {
    if (topic !== undefined) checkTopic(topic);
    this.#throwIfUnusable();
    while (this.#queue.length >= this.maxQueued) {
      await new Promise<void>((resolve, reject) => this.#waiters.push({ resolve, reject }));
      this.#throwIfUnusable();
    }
    this.#queue.push({ message, topic, at: performance.now() });
    if (this.#queue.length === 1) this.#arm(this.flushInterval);
    // Only the add that completes a batch schedules it (and waits for it, as in the seed); a
    // batch is never sent short because a later add found it already taken.
    if (this.#queue.length >= (this.#fullScheduled + 1) * this.batchSize) {
      this.#fullScheduled++;
      await this.#flushOne(() => this.#fullScheduled--);
    }
  }

  /** Broadcasts everything queued now, in batches of at most `batchSize`; rejects with the first failure. */
  async flush(): Promise<void> {
    let first: unknown;
    let batches = Math.ceil(this.#queue.length / this.batchSize);
    while (batches-- > 0) await this.#flushOne().catch((e: unknown) => void (first ??= e));
    await this.#tail;
    // An earlier unawaited (timer) failure is older, so it is reported first.
    const pending = this.#pendingError;
    this.#pendingError = undefined;
    const err = pending ?? first;
    if (err !== undefined) throw err;
  }

  /**
   * Refuses new messages, wakes waiting producers with BatcherClosedError, and broadcasts what is
   * queued (flush on close). Rejects with the first flush failure, after trying every batch.
   */
  async close(): Promise<void> {
    if (this.#closed) return this.#tail;
    this.#closed = true;
    for (const w of this.#waiters.splice(0)) w.reject(new BatcherClosedError());
    try {
      await this.flush();
    } finally {
      clearTimeout(this.#timer);
      this.#timer = undefined;
    }
  }

  #throwIfUnusable(): void {
    if (this.#closed) throw new BatcherClosedError();
    this.#throwPending();
  }

  #throwPending(): void {
    const err = this.#pendingError;
    if (err) {
      this.#pendingError = undefined;
      throw err;
    }
  }

  #arm(ms: number): void {
    clearTimeout(this.#timer);
    this.#timer = setTimer(
      () => {
        this.#timer = undefined;
        this.#flushOne().catch((err: BatchFlushError<T>) => this.#report(err));
      },
      Math.max(0, ms),
    );
    this.#timer.unref();
  }

  #report(err: BatchFlushError<T>): void {
    if (this.#onError) this.#onError(err);
    else this.#pendingError ??= err;
  }

  /** Chains one batch after the broadcast in flight; the batch is taken when its turn comes. */
  #flushOne(onTurn?: () => void): Promise<void> {
    const run = this.#tail.then(() => {
      onTurn?.();
      return this.#sendBatch();
    });
    this.#tail = run.catch(() => undefined);
    return run;
  }

  async #sendBatch(): Promise<void> {
    if (this.#queue.length === 0) return;
    const taken = this.#queue.splice(0, this.batchSize);
    clearTimeout(this.#timer);
    this.#timer = undefined;
    // The leftovers keep their own deadline: flushInterval after the oldest of them was queued.
    if (this.#queue.length > 0) this.#arm(this.#queue[0].at + this.flushInterval - performance.now());
    for (const w of this.#waiters.splice(0, this.maxQueued - this.#queue.length)) w.resolve();
    this.#metrics?.size.observe(taken.length);
    // One broadcast per topic in the batch (in order of first appearance; messages keep their order
    // within a topic), so each topic's messages reach only its subscribers.
    let first: unknown;
    for (const [topic, batch] of byTopic(taken)) {
      try {
        await this.#broadcast(batch, topic);
        this.#metrics?.flushes.inc({ [LABEL.result]: BATCH_RESULT.success });
      } catch (cause) {
        this.#metrics?.flushes.inc({ [LABEL.result]: BATCH_RESULT.error });
        first ??= new BatchFlushError(batch, cause);
      }
    }
    if (first !== undefined) throw first;
  }
}

/** The queued messages grouped by topic (undefined: everyone), groups in order of first appearance. */
function byTopic<T>(taken: readonly Queued<T>[]): Map<string | undefined, T[]> {
  const groups = new Map<string | undefined, T[]>();
  for (const q of taken) {
    const group = groups.get(q.topic);
    if (group === undefined) groups.set(q.topic, [q.message]);
    else group.push(q.message);
  }
  return groups;
}
