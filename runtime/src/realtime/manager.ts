import type { IncomingMessage, Server } from "node:http";
import type { Duplex } from "node:stream";
import type { Registry } from "prom-client";
import type { WebSocket, WebSocketServer, RawData } from "ws";
import { loadPeer } from "../peers";
import { LABEL } from "../metrics/names";
import type { ReconnectStrategy } from "./backoff";
import { CLOSE_CODE, CLOSE_REASON } from "./close-codes";
import { RealtimeOptionsError } from "./errors";
import { WebSocketMetrics, WS_DIRECTION, WS_REASON, type WsReason } from "./metrics";
import { checkReconnectStrategy, positiveInt } from "./options";

/** WebSocket.OPEN (the WHATWG readyState; a constant, so `ws` need not be loaded to compare with it). */
const OPEN = 1;

/** The seed's WSConfig (the profile's `runtime.ws`, env UAIP_WS_*). All durations in ms. */
export interface WSConfig {
  /** Connections per process; the next one is closed with 1013 "Maximum connections reached". */
  maxConnections: number;
  /** Ping every this many ms; a peer without a pong by the next ping is terminated. Keep it below the ALB idle timeout. */
  heartbeatInterval: number;
  /** Not used by the server: the clients' backoff (see ReconnectingClient), exposed here so a service hands it on. */
  reconnectStrategy: ReconnectStrategy;
}

export interface WebSocketManagerOptions {
  /** Registry for the `uaip_ws_*` series. @default none (no metrics) */
  registry?: Registry;
  /**
   * Send-buffer bound per socket, bytes. ws's `send()` never refuses (ws#2263): a peer that reads
   * slower than we write would grow the process' memory without limit. A socket whose
   * `bufferedAmount` is above this when a frame is due is closed with 1008 and no longer written
   * to, so it holds at most this plus one frame. @default 1 MiB
   */
  maxBufferedBytes?: number;
  /** Largest frame accepted from a client, bytes (ws' default is 100 MiB). @default 1 MiB */
  maxPayload?: number;
  /**
   * `drain()` closes every socket with 1001, then terminates what is still open after this many ms.
   * Keep it below the pod's terminationGracePeriodSeconds minus its preStop sleep (the stack gives
   * max(deregistration delay, this default) + 5 s after preStop, 35 s with the defaults), leaving time
   * for HTTP. @default 10000
   */
  drainTimeoutMs?: number;
  /** After the server sends a close frame (1008, 1013), the socket is terminated if still open this many ms later. @default 1000 */
  closeTimeoutMs?: number;
  /** Called for every frame a client sends. */
  onMessage?: (socket: WebSocket, data: RawData, isBinary: boolean) => void;
  /** Called once a connection is accepted (after the maxConnections check). */
  onConnection?: (socket: WebSocket, request?: IncomingMessage) => void;
}

/** Options of WebSocketManager.attach: the upgrade path. */
export interface AttachOptions {
  /** Only upgrade requests for this path (query string ignored); others are left to other listeners. @default every path */
  path?: string;
}

interface SocketState {
  /** A pong (or the accept) arrived since the last ping. */
  alive: boolean;
  /** performance.now() of the unanswered ping, 0 when none is out. */
  pingAt: number;
  /** Closed by us (slow consumer, drain): nothing more is written to it. */
  closing: boolean;
  killTimer?: NodeJS.Timeout;
}

const MIB = 1024 * 1024;

/**
 * Default of `drainTimeoutMs`. The stack gives a pod `max(deregistrationDelay, 10 s) + 5 s` between
 * SIGTERM (after the preStop sleep) and SIGKILL, 35 s with the default delay; a test checks every
 * preset and delays from 0 to 3600 s.
 */
export const DEFAULT_DRAIN_TIMEOUT_MS = 10_000;

/**
 * The seed's WebSocketManager on `ws`: what ws leaves to its users.
 * - `maxConnections` (ws has none): the next socket is closed with 1013 before anything is set up for it;
 * - one heartbeat timer for all sockets (ws README's isAlive pattern) that also times ping→pong;
 * - backpressure: `bufferedAmount` is checked before every frame (see `maxBufferedBytes`);
 * - drain: `wss.close()` leaves accepted sockets open (and so blocks `server.close()`); `drain()` closes them with 1001;
 * - `attach()` turns permessage-deflate off (it fragments memory under concurrency, ws#1202) and bounds `maxPayload`.
 */
export class WebSocketManager {
  readonly maxConnections: number;
  readonly heartbeatInterval: number;
  readonly reconnectStrategy: ReconnectStrategy;
  readonly maxBufferedBytes: number;
  readonly maxPayload: number;
  readonly drainTimeoutMs: number;
  readonly closeTimeoutMs: number;
  readonly #sockets = new Map<WebSocket, SocketState>();
  readonly #metrics: WebSocketMetrics | undefined;
  readonly #onMessage: WebSocketManagerOptions["onMessage"];
  readonly #onConnection: WebSocketManagerOptions["onConnection"];
  readonly #detach: (() => void)[] = [];
  readonly #closedWaiters = new Set<() => void>();
  #heartbeat: NodeJS.Timeout | undefined;
  #draining: Promise<void> | undefined;
  /** One set of socket listeners for every connection; ws calls them with `this` = the socket. */
  readonly #listeners = ((manager: WebSocketManager) => ({
    pong(this: WebSocket): void {
      manager.#pong(this);
    },
    message(this: WebSocket, data: RawData, isBinary: boolean): void {
      manager.#metrics?.messages.inc({ [LABEL.direction]: WS_DIRECTION.received });
      manager.#onMessage?.(this, data, isBinary);
    },
    close(this: WebSocket): void {
      manager.#closed(this);
    },
  }))(this);

  constructor(wsConfig: WSConfig, options: WebSocketManagerOptions = {}) {
    if (!wsConfig || typeof wsConfig !== "object")
      throw new RealtimeOptionsError("wsConfig", "is required: { maxConnections, heartbeatInterval, reconnectStrategy }");
    this.maxConnections = positiveInt("maxConnections", wsConfig.maxConnections);
    this.heartbeatInterval = positiveInt("heartbeatInterval", wsConfig.heartbeatInterval);
    this.reconnectStrategy = checkReconnectStrategy("reconnectStrategy", wsConfig.reconnectStrategy);
    this.maxBufferedBytes = positiveInt("maxBufferedBytes", options.maxBufferedBytes ?? MIB);
    this.maxPayload = positiveInt("maxPayload", options.maxPayload ?? MIB);
    this.drainTimeoutMs = positiveInt("drainTimeoutMs", options.drainTimeoutMs ?? DEFAULT_DRAIN_TIMEOUT_MS, 0);
    this.closeTimeoutMs = positiveInt("closeTimeoutMs", options.closeTimeoutMs ?? 1_000, 0);
    this.#onMessage = options.onMessage;
    this.#onConnection = options.onConnection;
    if (options.registry) {
      this.#metrics = new WebSocketMetrics(options.registry);
      this.#metrics.maxConnections.inc(this.maxConnections);
    }
    this.#heartbeat = setInterval(() => this.#beat(), this.heartbeatInterval);
    this.#heartbeat.unref();
  }

  /** Open, accepted connections. */
  get size(): number {
    return this.#sockets.size;
  }

  /** True once `drain()` was called: new connections are refused. */
  get draining(): boolean {
    return this.#draining !== undefined;
  }

  /** The accepted sockets (a snapshot). */
  sockets(): WebSocket[] {
    return [...this.#sockets.keys()];
  }

  /**
   * Takes over a socket from any ws server's `connection` event. Over `maxConnections` it is closed
   * with 1013 and nothing else is done for it; while draining, with 1001.
   */
  async handleConnection(socket: WebSocket, request?: IncomingMessage): Promise<void> {
    if (this.#draining) return this.#refuse(socket, CLOSE_CODE.goingAway, CLOSE_REASON.goingAway, WS_REASON.draining);
    if (this.#sockets.size >= this.maxConnections)
      return this.#refuse(socket, CLOSE_CODE.tryAgainLater, CLOSE_REASON.tryAgainLater, WS_REASON.maxConnections);
    if (socket.readyState !== OPEN) return;

    const state: SocketState = { alive: true, pingAt: 0, closing: false };
    this.#sockets.set(socket, state);
    this.#metrics?.connections.inc();
    // Shared listeners (`this` is the socket): no closures per connection, see the memory bench.
    socket.on("error", ignoreError);
    socket.on("pong", this.#listeners.pong);
    socket.on("message", this.#listeners.message);
    socket.on("close", this.#listeners.close);
    this.#onConnection?.(socket, request);
  }

  #pong(socket: WebSocket): void {
    const state = this.#sockets.get(socket);
    if (!state) return;
    state.alive = true;
    if (state.pingAt > 0) this.#metrics?.pingLatency.observe((performance.now() - state.pingAt) / 1000);
    state.pingAt = 0;
  }

  #closed(socket: WebSocket): void {
    const state = this.#sockets.get(socket);
    if (!state) return;
    clearTimeout(state.killTimer);
    this.#sockets.delete(socket);
    this.#metrics?.connections.dec();
    if (this.#sockets.size === 0) for (const w of this.#closedWaiters) w();
  }

  /**
   * Serves WebSockets on an existing `node:http` server (the HTTP routes' port: one ALB target).
   * Returns the (noServer) WebSocketServer, whose `connection` event fires for accepted sockets
   * only; after `drain()` upgrades get 503.
   */
  attach(server: Server, options: AttachOptions = {}): WebSocketServer {
    if (this.#draining) throw new RealtimeOptionsError("attach", "the manager is draining; create a new WebSocketManager");
    const wss = new (loadPeer<typeof import("ws")>("ws").WebSocketServer)({
      noServer: true,
      perMessageDeflate: false,
      maxPayload: this.maxPayload,
      clientTracking: false,
    });
    const onUpgrade = (req: IncomingMessage, socket: Duplex, head: Buffer): void => {
      if (options.path !== undefined && (req.url ?? "/").split("?")[0] !== options.path) {
        // Another listener may own this path; answer only when nobody else can.
        if (server.listenerCount("upgrade") === 1) rejectUpgrade(socket, 404, "Not Found");
        return;
      }
      if (this.#draining) {
        this.#metrics?.rejected.inc({ [LABEL.reason]: WS_REASON.draining });
        return rejectUpgrade(socket, 503, "Service Unavailable");
      }
      wss.handleUpgrade(req, socket, head, (ws) => {
        void this.handleConnection(ws, req);
        // `connection` listeners (the service's) see accepted sockets only, not the refused ones.
        if (this.#sockets.has(ws)) wss.emit("connection", ws, req);
      });
    };
    server.on("upgrade", onUpgrade);
    // The upgrade listener stays after drain() to answer 503: without any listener, node:http
    // would hand the upgrade request to the HTTP routes.
    this.#detach.push(() => wss.close());
    return wss;
  }

  /**
   * Sends one frame to `socket`. Returns false without sending when the socket is not one of ours,
   * not open, being closed, or over `maxBufferedBytes` (then it is closed with 1008).
   */
  send(socket: WebSocket, data: string | Buffer): boolean {
    const state = this.#sockets.get(socket);
    if (!state || !this.#sendTo(socket, state, typeof data === "string" ? Buffer.from(data) : data, typeof data !== "string"))
      return false;
    this.#metrics?.messages.inc({ [LABEL.direction]: WS_DIRECTION.sent });
    return true;
  }

  /**
   * Sends `data` as one frame to every open socket; returns how many got it. The payload is
   * encoded once and shared by every socket (ws does not copy a Buffer on an unmasked send).
   */
  broadcast(data: string | Buffer): number {
    const payload = typeof data === "string" ? Buffer.from(data) : data;
    const binary = typeof data !== "string";
    let sent = 0;
    for (const [socket, state] of this.#sockets) if (this.#sendTo(socket, state, payload, binary)) sent++;
    if (sent > 0) this.#metrics?.messages.inc({ [LABEL.direction]: WS_DIRECTION.sent }, sent);
    return sent;
  }

  /**
   * Stops accepting (upgrades get 503, `handleConnection` closes with 1001), closes every socket
   * with 1001 "Server shutting down", and terminates the ones still open after `timeoutMs`.
   * Resolves once every socket is closed. Idempotent.
   */
  drain(timeoutMs: number = this.drainTimeoutMs): Promise<void> {
    this.#draining ??= this.#drain(positiveInt("drain(timeoutMs)", timeoutMs, 0));
    return this.#draining;
  }

  /** Same as `drain()` with the configured `drainTimeoutMs`. */
  close(): Promise<void> {
    return this.drain();
  }

  async #drain(timeoutMs: number): Promise<void> {
    clearInterval(this.#heartbeat);
    for (const detach of this.#detach.splice(0)) detach();
    for (const [socket, state] of this.#sockets) {
      state.closing = true;
      socket.close(CLOSE_CODE.goingAway, CLOSE_REASON.goingAway);
    }
    if (!(await this.#allClosedWithin(timeoutMs))) {
      for (const [socket] of this.#sockets) {
        this.#metrics?.terminated.inc({ [LABEL.reason]: WS_REASON.drainTimeout });
        socket.terminate();
      }
      await this.#allClosedWithin(1_000);
    }
    this.#metrics?.maxConnections.dec(this.maxConnections);
  }

  #allClosedWithin(ms: number): Promise<boolean> {
    if (this.#sockets.size === 0) return Promise.resolve(true);
    return new Promise((resolve) => {
      const done = (ok: boolean) => {
        clearTimeout(timer);
        this.#closedWaiters.delete(onEmpty);
        resolve(ok);
      };
      const onEmpty = () => done(true);
      const timer = setTimeout(() => done(false), ms);
      timer.unref();
      this.#closedWaiters.add(onEmpty);
    });
  }

  #refuse(socket: WebSocket, code: number, reason: string, label: WsReason): void {
    this.#metrics?.rejected.inc({ [LABEL.reason]: label });
    socket.on("error", ignoreError);
    socket.close(code, reason);
    const kill = setTimeout(() => socket.terminate(), this.closeTimeoutMs);
    kill.unref();
    socket.once("close", () => clearTimeout(kill));
  }

  #sendTo(socket: WebSocket, state: SocketState, payload: Buffer, binary: boolean): boolean {
    if (state.closing || socket.readyState !== OPEN) return false;
    if (socket.bufferedAmount > this.maxBufferedBytes) {
      this.#closeSlowConsumer(socket, state);
      return false;
    }
    socket.send(payload, { binary });
    return true;
  }

  /** Close frame first (it documents why), then terminate: the frame sits behind the unread buffer. */
  #closeSlowConsumer(socket: WebSocket, state: SocketState): void {
    state.closing = true;
    this.#metrics?.terminated.inc({ [LABEL.reason]: WS_REASON.slowConsumer });
    socket.close(CLOSE_CODE.slowConsumer, CLOSE_REASON.slowConsumer);
    state.killTimer = setTimeout(() => socket.terminate(), this.closeTimeoutMs);
    state.killTimer.unref();
  }

  /** One tick for every socket: terminate who missed the last ping, ping the rest. */
  #beat(): void {
    for (const [socket, state] of this.#sockets) {
      if (state.closing) continue;
      if (!state.alive) {
        state.closing = true;
        this.#metrics?.terminated.inc({ [LABEL.reason]: WS_REASON.heartbeatTimeout });
        socket.terminate();
        continue;
      }
      state.alive = false;
      state.pingAt = performance.now();
      socket.ping();
    }
  }
}

/** ws emits 'error' before 'close' on protocol errors; without a listener it would crash the process. */
function ignoreError(): void {}

function rejectUpgrade(socket: Duplex, status: number, text: string): void {
  socket.on("error", ignoreError);
  socket.end(`HTTP/1.1 ${status} ${text}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`);
}
