import { isCluster, type RedisClient } from "../redis/connect";
import { setRepeating, setTimer } from "../timer";

/** What travels on the channel: the sender's instance id and either keys or one glob pattern. Never values. */
export interface InvalidationMessage {
  /** Sender instance id; an instance ignores its own messages (it has already evicted locally). */
  i: string;
  k?: string[];
  p?: string;
}

export function encodeMessage(message: InvalidationMessage): string {
  return JSON.stringify(message);
}

/** Parses a message; anything malformed (another program on the channel) is ignored rather than trusted. */
export function decodeMessage(raw: string): InvalidationMessage | undefined {
  try {
    const m = JSON.parse(raw) as unknown;
    if (typeof m !== "object" || m === null) return undefined;
    const { i, k, p } = m as Record<string, unknown>;
    if (typeof i !== "string") return undefined;
    if (Array.isArray(k) && k.every((x) => typeof x === "string")) return { i, k };
    if (typeof p === "string" && p.length > 0) return { i, p };
  } catch {
    // not JSON
  }
  return undefined;
}

export interface InvalidationBusOptions {
  /** A connection of its own; on a Redis Cluster, a Cluster (ioredis subscribes on one node, and PUBLISH reaches every node's subscribers). */
  subscriber: RedisClient;
  channel: string;
  instanceId: string;
  onKeys(keys: string[]): void;
  onPattern(pattern: string): void;
  /** Called when the subscription comes back after a disconnect: messages sent meanwhile are lost. */
  onResubscribed(): void;
  onError(error: unknown): void;
  /**
   * PING the subscriber every this many ms; a PING still unanswered at the next beat means the
   * connection died silently (half-open: no FIN, no answers), so it is dropped and reconnected, which
   * restores the subscription and calls onResubscribed. 0 turns it off. @default 0
   */
  heartbeatMs?: number;
  /** Called when the heartbeat found a silent subscriber and dropped it. */
  onHeartbeatLost?(): void;
}

/**
 * Receiving side of cross-instance L1 invalidation, on its own connection (a subscribed connection
 * cannot run other commands). Publishing goes through the command connection, next to the write.
 */
export class InvalidationBus {
  readonly #o: InvalidationBusOptions;
  #wasReady = false;
  #lost = false;
  readonly #onMessage = (channel: string, raw: string): void => this.#handle(channel, raw);
  readonly #onReady = (): void => {
    const resubscribing = this.#wasReady && this.#lost;
    this.#wasReady = true;
    this.#lost = false;
    if (!resubscribing) return;
    // After a reconnect the subscription is ours to restore (SUBSCRIBER_OVERRIDES: autoResubscribe
    // off): messages sent while it was down are lost, which onResubscribed answers once it is back.
    this.#o.subscriber.subscribe(this.#o.channel).then(
      () => this.#o.onResubscribed(),
      (e: unknown) => this.#o.onError(e),
    );
  };
  readonly #onClose = (): void => {
    if (this.#wasReady) this.#lost = true;
  };
  readonly #onError = (e: unknown): void => this.#o.onError(e);
  /**
   * Cluster only: a node left the cluster client's pool (killed, failed over). If it was the node
   * ioredis subscribed on, ioredis subscribes again on another node, and what was published in between
   * is lost; ioredis does not say which node it was, so any node loss counts as a lost subscription.
   */
  readonly #onNodeLost = (): void => {
    if (this.#wasReady) this.#o.onResubscribed();
  };
  /** The first SUBSCRIBE's outcome: on a cluster, ready() waits for it (a PING would go to any node). */
  readonly #subscribed: Promise<boolean>;
  #heartbeat: NodeJS.Timeout | undefined;
  /** A heartbeat PING is out and unanswered. */
  #pinging = false;

  constructor(options: InvalidationBusOptions) {
    this.#o = options;
    if (options.heartbeatMs) {
      this.#heartbeat = setRepeating(() => this.#beat(), options.heartbeatMs);
      this.#heartbeat.unref();
    }
    const sub = options.subscriber;
    sub.on("message", this.#onMessage);
    sub.on("ready", this.#onReady);
    sub.on("close", this.#onClose);
    sub.on("error", this.#onError);
    if (isCluster(sub)) sub.on("-node", this.#onNodeLost);
    if (sub.status === "ready") this.#wasReady = true;
    // Queued until connected; #onReady subscribes again after each reconnect.
    this.#subscribed = sub.subscribe(options.channel).then(
      () => true,
      (e: unknown) => {
        options.onError(e);
        return false;
      },
    );
  }

  /** Resolves once the subscription is active (a PING answered after SUBSCRIBE on the same socket), false on timeout. */
  async ready(timeoutMs: number): Promise<boolean> {
    const sub = this.#o.subscriber;
    const deadline = Date.now() + timeoutMs;
    if (isCluster(sub)) {
      const timeout = new Promise<false>((r) => setTimer(() => r(false), timeoutMs).unref());
      return (await Promise.race([this.#subscribed, timeout])) && sub.status === "ready";
    }
    while (Date.now() < deadline) {
      if (sub.status === "ready") {
        try {
          await sub.ping();
          return true;
        } catch {
          // reconnecting; retry below
        }
      }
      await new Promise((r) => setTimer(r, 10).unref());
    }
    return false;
  }

  /**
   * Pub/sub has no delivery guarantee and a subscriber only ever reads: without this, a connection
   * whose answers stopped (a dropped NAT entry, a vanished peer) looks healthy forever and every
   * invalidation sent meanwhile is lost while L1 keeps serving the old values.
   */
  #beat(): void {
    const sub = this.#o.subscriber;
    if (sub.status !== "ready") {
      this.#pinging = false; // reconnecting already; the ready handler takes over
      return;
    }
    if (this.#pinging) {
      this.#pinging = false;
      this.#o.onHeartbeatLost?.();
      // Destroy the socket rather than disconnect(true): that only half-closes it and waits for a FIN
      // a dead peer never sends. The close makes ioredis reconnect, and #onReady resubscribes.
      // A cluster client has no one socket to destroy: it reconnects to the cluster as a whole.
      if ("stream" in sub) sub.stream?.destroy();
      else sub.disconnect(true);
      return;
    }
    this.#pinging = true;
    sub.ping().then(
      () => (this.#pinging = false),
      () => (this.#pinging = false),
    );
  }

  #handle(channel: string, raw: string): void {
    if (channel !== this.#o.channel) return;
    const m = decodeMessage(raw);
    if (!m || m.i === this.#o.instanceId) return;
    if (m.k) this.#o.onKeys(m.k);
    else if (m.p) this.#o.onPattern(m.p);
  }

  detach(): void {
    clearInterval(this.#heartbeat);
    const sub = this.#o.subscriber;
    sub.off("message", this.#onMessage);
    sub.off("ready", this.#onReady);
    sub.off("close", this.#onClose);
    sub.off("-node", this.#onNodeLost);
    // #onError stays: a connection closed mid-handshake still emits an error, which must not go unhandled.
  }
}
