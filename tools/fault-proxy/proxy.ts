import { connect, createServer, type AddressInfo, type Server, type Socket } from "node:net";
import { checkFault, FaultProxyError, type Direction, type Fault, type FaultKind } from "./faults";

/** One entry of the proxy's timeline: when a fault went on or off (ms since the epoch). */
export interface FaultEvent {
  at: number;
  action: "on" | "off";
  fault: Fault;
}

/** One step of a schedule: turn `fault` on `atMs` after `schedule()` is called, and off again `forMs` later (never, when absent). */
export interface ScheduledFault {
  atMs: number;
  forMs?: number;
  fault: Fault;
}

/** How much of what a client sent is kept to match a scope against. */
const SAID_BYTES = 4_096;

/**
 * Which open connections a per-connection fault (reset, half-open) hits: those whose first bytes from
 * the client match `said` (e.g. /SUBSCRIBE/ for a Redis subscriber). A scoped fault is applied once, to
 * the connections open at that moment, and is not left on for new ones.
 */
export interface FaultScope {
  said: RegExp;
}

type Item = { at: number; data: Buffer } | { at: number; end: true } | { at: number; reset: true };

/**
 * One direction of one proxied connection: chunks queued with the time they may leave, written by a
 * single pump so order is kept. A blackhole stops the pump (bytes are held); latency and bandwidth
 * only push the leave time later.
 */
class Pipe {
  readonly queue: Item[] = [];
  #timer: NodeJS.Timeout | undefined;
  /** When the last queued item leaves: a later chunk never overtakes it. */
  #lastAt = 0;
  constructor(
    readonly direction: Direction,
    readonly sink: () => Socket | undefined,
    readonly proxy: FaultProxy,
    readonly link: Link,
  ) {}

  push(item: { data: Buffer } | { end: true } | { reset: true }): void {
    if (this.link.halfOpen.has(this.direction)) return; // dropped, FIN and reset included: the other end never learns
    const now = Date.now();
    const delay = this.proxy.delayMs(this.direction);
    if ("data" in item) {
      const pieces = this.proxy.pace(this.direction, item.data, Math.max(now + delay, this.#lastAt));
      for (const piece of pieces) this.queue.push(piece);
      this.#lastAt = pieces[pieces.length - 1]!.at;
    } else {
      this.#lastAt = Math.max(now + delay, this.#lastAt);
      this.queue.push({ ...item, at: this.#lastAt });
    }
    this.pump();
  }

  pump(): void {
    if (this.#timer) return;
    while (this.queue.length > 0) {
      if (this.proxy.isOn("blackhole")) return; // held until the partition heals (clear() pumps again)
      const sink = this.sink();
      if (!sink) return; // upstream still connecting; its connect event pumps again
      const head = this.queue[0]!;
      const wait = head.at - Date.now();
      if (wait > 0) {
        this.#timer = setTimeout(() => {
          this.#timer = undefined;
          this.pump();
        }, wait);
        return;
      }
      this.queue.shift();
      if ("data" in head) {
        this.proxy.bytes[this.direction] += head.data.length;
        if (!sink.destroyed) sink.write(head.data);
      } else if ("end" in head) {
        if (!sink.destroyed) sink.end();
      } else {
        this.link.destroy(true);
        return;
      }
    }
  }

  stop(): void {
    clearTimeout(this.#timer);
    this.#timer = undefined;
    this.queue.length = 0;
  }
}

/** A client connection and its upstream connection. */
class Link {
  readonly halfOpen = new Set<Direction>();
  /** The first bytes the client sent (latin1), so a fault can pick connections by what they said. */
  said = "";
  upstream: Socket | undefined;
  readonly up: Pipe;
  readonly down: Pipe;
  #done = false;
  constructor(
    readonly client: Socket,
    readonly proxy: FaultProxy,
  ) {
    this.up = new Pipe("up", () => (this.upstream?.connecting === false ? this.upstream : undefined), proxy, this);
    this.down = new Pipe("down", () => this.client, proxy, this);
  }

  /** Tears both sockets down; `reset` sends the client an RST (ECONNRESET) instead of a FIN. */
  destroy(reset: boolean): void {
    if (this.#done) return;
    this.#done = true;
    this.up.stop();
    this.down.stop();
    if (reset && !this.client.destroyed) this.client.resetAndDestroy();
    else this.client.destroy();
    this.upstream?.destroy();
    this.proxy.links.delete(this);
  }
}

/**
 * A TCP proxy on loopback between a client and one upstream (Redis, PostgreSQL), with faults switched
 * on and off at run time (`enable`, `disable`) or on a schedule (`schedule`). See faults.ts for what
 * each fault does on the wire. Used by the tests of the runtime's guarantees and by `npm run load -- --faults`.
 */
export class FaultProxy {
  readonly links = new Set<Link>();
  /** Bytes forwarded so far: `up` client->server, `down` server->client. */
  readonly bytes = { up: 0, down: 0 };
  /** Every fault switched on or off, in order. */
  readonly timeline: FaultEvent[] = [];
  connections = 0;
  readonly #active = new Map<FaultKind, Fault>();
  /** Per direction, when the link is next free under a bandwidth limit. */
  readonly #linkFreeAt = { up: 0, down: 0 };
  readonly #timers = new Set<NodeJS.Timeout>();

  private constructor(
    readonly server: Server,
    readonly target: { host: string; port: number },
  ) {}

  /** Listens on `listenPort` (a free one when 0) of 127.0.0.1 and forwards to `target`. */
  static async start(target: { host?: string; port: number }, listenPort = 0): Promise<FaultProxy> {
    const server = createServer({ allowHalfOpen: true });
    const proxy = new FaultProxy(server, { host: target.host ?? "127.0.0.1", port: target.port });
    server.on("connection", (socket) => proxy.#accept(socket));
    await new Promise<void>((resolve, reject) => {
      server.once("error", reject);
      server.listen(listenPort, "127.0.0.1", () => resolve());
    });
    return proxy;
  }

  get port(): number {
    return (this.server.address() as AddressInfo).port;
  }

  /** `redis://127.0.0.1:<proxy port>`, for a Redis behind the proxy. */
  get redisUrl(): string {
    return `redis://127.0.0.1:${this.port}`;
  }

  isOn(kind: FaultKind): boolean {
    return this.#active.has(kind);
  }

  get active(): Fault[] {
    return [...this.#active.values()];
  }

  /**
   * Switches a fault on (replacing one of the same kind). Throws FaultProxyError on a bad fault, listing
   * every problem. With a `scope`, a reset or half-open fault hits only the matching open connections, once.
   */
  enable(fault: Fault, scope?: FaultScope): void {
    checkFault(fault);
    if (scope) {
      if (fault.kind !== "reset" && fault.kind !== "half-open")
        throw new FaultProxyError(`scope: a ${fault.kind} fault applies to the whole link; scope only reset or half-open faults`);
      const hit = [...this.links].filter((link) => scope.said.test(link.said));
      this.timeline.push({ at: Date.now(), action: "on", fault });
      for (const link of hit) {
        if (fault.kind === "reset") link.destroy(true);
        else link.halfOpen.add(fault.direction ?? "down");
      }
      return;
    }
    this.#active.set(fault.kind, fault);
    this.timeline.push({ at: Date.now(), action: "on", fault });
    if (fault.kind === "reset") for (const link of [...this.links]) link.destroy(true);
    if (fault.kind === "half-open") for (const link of this.links) link.halfOpen.add(fault.direction ?? "down");
    if (fault.kind === "bandwidth") this.#linkFreeAt.up = this.#linkFreeAt.down = 0;
  }

  /** Switches a fault kind off. Held bytes (blackhole) are delivered; half-open connections stay half-open. */
  disable(kind: FaultKind): void {
    const fault = this.#active.get(kind);
    if (!fault) return;
    this.#active.delete(kind);
    this.timeline.push({ at: Date.now(), action: "off", fault });
    if (kind === "blackhole")
      for (const link of this.links) {
        link.up.pump();
        link.down.pump();
      }
  }

  /** Switches every fault off. */
  clear(): void {
    for (const kind of [...this.#active.keys()]) this.disable(kind);
  }

  /** Resets every open connection once, without leaving the reset fault on. */
  resetConnections(): void {
    for (const link of [...this.links]) link.destroy(true);
  }

  /** Runs a schedule relative to now; every step is checked first (all problems at once). Returns a cancel function. */
  schedule(steps: readonly ScheduledFault[]): () => void {
    steps.forEach((s) => checkFault(s.fault));
    const timers: NodeJS.Timeout[] = [];
    const later = (ms: number, fn: () => void) => {
      const t = setTimeout(() => {
        this.#timers.delete(t);
        fn();
      }, ms);
      this.#timers.add(t);
      timers.push(t);
    };
    for (const step of steps) {
      later(step.atMs, () => this.enable(step.fault));
      if (step.forMs !== undefined) later(step.atMs + step.forMs, () => this.disable(step.fault.kind));
    }
    return () => {
      for (const t of timers) {
        clearTimeout(t);
        this.#timers.delete(t);
      }
    };
  }

  /** The latency to add to one chunk now (fixed + uniform jitter), on answers only: one round trip pays it once. */
  delayMs(direction: Direction): number {
    const latency = this.#active.get("latency") as Extract<Fault, { kind: "latency" }> | undefined;
    if (!latency || direction === "up") return 0;
    return latency.ms + (latency.jitterMs ? Math.random() * latency.jitterMs : 0);
  }

  /**
   * Splits a chunk into pieces and gives each the time it may leave: `earliest`, pushed later by the
   * link's bandwidth (pieces of a 20th of a second, so a large reply trickles rather than bursts).
   */
  pace(direction: Direction, data: Buffer, earliest: number): { at: number; data: Buffer }[] {
    const limit = this.#active.get("bandwidth") as Extract<Fault, { kind: "bandwidth" }> | undefined;
    if (!limit) return [{ at: earliest, data }];
    const pieceBytes = Math.max(1, Math.floor(limit.bytesPerSecond / 20));
    const pieces: { at: number; data: Buffer }[] = [];
    for (let offset = 0; offset < data.length; offset += pieceBytes) {
      const piece = data.subarray(offset, offset + pieceBytes);
      // A piece leaves once the link has sent the previous ones: the link is busy len/rate after it starts.
      const at = Math.max(earliest, this.#linkFreeAt[direction]);
      this.#linkFreeAt[direction] = at + (piece.length / limit.bytesPerSecond) * 1000;
      pieces.push({ at: this.#linkFreeAt[direction], data: piece });
    }
    return pieces;
  }

  #accept(client: Socket): void {
    this.connections++;
    if (this.isOn("reset")) {
      client.resetAndDestroy();
      return;
    }
    const link = new Link(client, this);
    this.links.add(link);
    const halfOpen = this.#active.get("half-open") as Extract<Fault, { kind: "half-open" }> | undefined;
    if (halfOpen) link.halfOpen.add(halfOpen.direction ?? "down");
    client.setNoDelay(true);
    const upstream = connect({ host: this.target.host, port: this.target.port, allowHalfOpen: true });
    upstream.setNoDelay(true);
    link.upstream = upstream;
    upstream.on("connect", () => link.up.pump());
    client.on("data", (data: Buffer) => {
      if (link.said.length < SAID_BYTES) link.said += data.toString("latin1", 0, SAID_BYTES - link.said.length);
      link.up.push({ data });
    });
    upstream.on("data", (data: Buffer) => link.down.push({ data }));
    client.on("end", () => link.up.push({ end: true }));
    upstream.on("end", () => link.down.push({ end: true }));
    // An upstream that refuses or resets (a killed server) resets the client, in order after what was already sent.
    upstream.on("error", () => link.down.push({ reset: true }));
    client.on("error", () => link.destroy(false));
    client.on("close", () => {
      if (!link.halfOpen.has("up")) link.destroy(false);
    });
    upstream.on("close", () => {
      if (!link.halfOpen.has("down")) link.down.push({ end: true });
    });
  }

  /** Stops listening, cancels the schedule and closes every connection. */
  async close(): Promise<void> {
    for (const t of this.#timers) clearTimeout(t);
    this.#timers.clear();
    for (const link of [...this.links]) link.destroy(false);
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}
