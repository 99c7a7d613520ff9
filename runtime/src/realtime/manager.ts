import type { IncomingMessage, Server } from "node:http";
import type { Duplex } from "node:stream";
import type { Registry } from "prom-client";
import type { WebSocket, WebSocketServer, RawData } from "ws";
import { loadPeer } from "../peers";
import { LABEL } from "../metrics/names";
import type { ReconnectStrategy } from "./backoff";
import { CLOSE_CODE, CLOSE_REASON } from "./close-codes";
import { checkValue, duration, func, integer, object, required, size, string, validateOptions, type SpecFor } from "../options";
import { RealtimeOptionsError } from "./errors";
import { checkTopic } from "./topic";
import { WebSocketMetrics, WS_DIRECTION, WS_REASON, type WsReason } from "./metrics";
import { checkReconnectStrategy, realtimeError } from "./options";
import { setRepeating, setTimer } from "../timer";

/** WebSocket.OPEN (the WHATWG readyState; a constant, so `ws` need not be loaded to compare with it). */
const OPEN = 1;

/** The seed's WSConfig (the profile's `runtime.ws`, env UAIP_WS_*). All durations in ms. */
export interface WSConfig {
  /** Connections per process; the next one is closed with 1013 "Maximum connections reached". */
  maxConnections: number;
  /** Ping every this many ms; a peer without a pong by the next ping is terminated. Keep it below the ALB idle timeout. */
  heartbeatInterval: number;
  /**
   * Not used by the server: the clients' backoff (see ReconnectingClient), exposed here so a service
   * hands it on. Optional: a server-side manager (the seed's `{ maxConnections, heartbeatInterval }`)
   * works without it; when given it is checked like the client's.
   */
  reconnectStrategy?: ReconnectStrategy;
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
  /**
   * Decides at upgrade time, before any WebSocket exists (`attach()` only): `true` accepts; `false`
   * answers 403; `{ status: 401 | 403, headers? }` answers that (e.g. a WWW-Authenticate
   * header with 401; a header whose name is not a token, whose value holds a control character other
   * than HTAB, or that is Connection, Content-Length or Transfer-Encoding is dropped). May be async.
   * A throw, a rejection or any other answer gives 500, a verdict later than `authorizeTimeoutMs`
   * gives 503; none of them reaches the process. To hand the identity to `onConnection`, set it on
   * the request (`req.user = ...`). @default none: every upgrade is accepted
   */
  authorize?: (request: IncomingMessage) => AuthorizeVerdict | Promise<AuthorizeVerdict>;
  /** Longest wait for `authorize`, ms; then 503. @default 5000 */
  authorizeTimeoutMs?: number;
}

/** What `authorize` answers: accept (`true`), 403 (`false`), or a 401/403 refusal with its details. */
export type AuthorizeVerdict = boolean | { status: 401 | 403; headers?: Readonly<Record<string, string>> };

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
  /** Topics this socket is subscribed to (for the cleanup on close). */
  topics?: Set<string>;
  killTimer?: NodeJS.Timeout;
}

const MIB = 1024 * 1024;

/** The seed's WSConfig, checked by the runtime's one validator (options.ts). */
const WS_CONFIG_SPEC = {
  maxConnections: required(integer(1)),
  heartbeatInterval: required(duration(1)),
  reconnectStrategy: object<ReconnectStrategy>("{ initialDelay, maxDelay, factor }"),
} satisfies SpecFor<WSConfig>;

const ATTACH_OPTIONS_SPEC = {
  path: string({ pattern: /^\//, what: 'a path starting with "/"' }),
} satisfies SpecFor<AttachOptions>;

const WEBSOCKET_MANAGER_OPTIONS_SPEC = {
  registry: object<Registry>("a prom-client Registry"),
  maxBufferedBytes: size("bytes"),
  maxPayload: size("bytes"),
  drainTimeoutMs: duration(0),
  closeTimeoutMs: duration(0),
  onMessage: func<WebSocketManagerOptions["onMessage"]>(),
  onConnection: func<WebSocketManagerOptions["onConnection"]>(),
  authorize: func<WebSocketManagerOptions["authorize"]>("a function (request) => verdict | Promise<verdict>"),
  authorizeTimeoutMs: duration(1),
} satisfies SpecFor<WebSocketManagerOptions>;

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
  readonly reconnectStrategy: ReconnectStrategy | undefined;
  readonly maxBufferedBytes: number;
  readonly maxPayload: number;
  readonly drainTimeoutMs: number;
  readonly closeTimeoutMs: number;
  readonly authorizeTimeoutMs: number;
  readonly #sockets = new Map<WebSocket, SocketState>();
  readonly #topics = new Map<string, Set<WebSocket>>();
  readonly #authorize: WebSocketManagerOptions["authorize"];
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
    const where = "WebSocketManager";
    if (wsConfig === undefined)
      throw new RealtimeOptionsError("wsConfig", `${where}: wsConfig is required: { maxConnections, heartbeatInterval }`);
    const config = validateOptions(where, wsConfig, WS_CONFIG_SPEC, realtimeError);
    const o = validateOptions(where, options, WEBSOCKET_MANAGER_OPTIONS_SPEC, realtimeError);
    this.maxConnections = config.maxConnections!;
    this.heartbeatInterval = config.heartbeatInterval!;
    this.reconnectStrategy =
      config.reconnectStrategy === undefined
        ? undefined
        : checkReconnectStrategy(where, "reconnectStrategy", config.reconnectStrategy);
    this.maxBufferedBytes = o.maxBufferedBytes ?? MIB;
    this.maxPayload = o.maxPayload ?? MIB;
    this.drainTimeoutMs = o.drainTimeoutMs ?? DEFAULT_DRAIN_TIMEOUT_MS;
    this.closeTimeoutMs = o.closeTimeoutMs ?? 1_000;
    this.#onMessage = options.onMessage;
    this.#onConnection = options.onConnection;
    this.#authorize = o.authorize;
    this.authorizeTimeoutMs = o.authorizeTimeoutMs ?? 5_000;
    if (options.registry) {
      this.#metrics = new WebSocketMetrics(options.registry);
      this.#metrics.maxConnections.inc(this.maxConnections);
    }
    this.#heartbeat = setRepeating(() => this.#beat(), this.heartbeatInterval);
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
    if (state.topics !== undefined) for (const topic of state.topics) this.#leave(socket, topic);
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
    validateOptions("WebSocketManager.attach", options, ATTACH_OPTIONS_SPEC, realtimeError);
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
      const accept = (): void =>
        wss.handleUpgrade(req, socket, head, (ws) => {
          void this.handleConnection(ws, req);
          // `connection` listeners (the service's) see accepted sockets only, not the refused ones.
          if (this.#sockets.has(ws)) wss.emit("connection", ws, req);
        });
      if (this.#authorize === undefined) return accept();
      this.#authorizeUpgrade(this.#authorize, req, socket, accept);
    };
    server.on("upgrade", onUpgrade);
    // The upgrade listener stays after drain() to answer 503: without any listener, node:http
    // would hand the upgrade request to the HTTP routes.
    this.#detach.push(() => wss.close());
    return wss;
  }

  /**
   * Runs `authorize` for one upgrade request and answers it: accept, or an HTTP refusal written on the
   * raw socket before any WebSocket handshake (so a refused client never gets a WebSocket).
   */
  #authorizeUpgrade(
    authorize: NonNullable<WebSocketManagerOptions["authorize"]>,
    req: IncomingMessage,
    socket: Duplex,
    accept: () => void,
  ): void {
    // The client may go away while we wait; an error then must not be unhandled.
    socket.on("error", ignoreError);
    let settled = false;
    const refuse = (status: number, text: string, reason: WsReason, headers?: Readonly<Record<string, string>>): void => {
      this.#metrics?.rejected.inc({ [LABEL.reason]: reason });
      rejectUpgrade(socket, status, text, headers);
    };
    const timer = setTimer(() => {
      settled = true;
      refuse(503, "Service Unavailable", WS_REASON.authorizeFailed);
    }, this.authorizeTimeoutMs);
    timer.unref();
    const decide = (verdict: unknown): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      if (socket.destroyed) return;
      if (this.#draining) return refuse(503, "Service Unavailable", WS_REASON.draining);
      if (verdict === true) return accept();
      if (verdict === false) return refuse(403, "Forbidden", WS_REASON.unauthorized);
      const v = verdict as Exclude<AuthorizeVerdict, boolean> | null;
      if (v !== null && typeof v === "object" && (v.status === 401 || v.status === 403))
        return refuse(v.status, v.status === 401 ? "Unauthorized" : "Forbidden", WS_REASON.unauthorized, v.headers);
      refuse(500, "Internal Server Error", WS_REASON.authorizeFailed);
    };
    const failed = (): void => decide({ status: 500 });
    let verdict: AuthorizeVerdict | Promise<AuthorizeVerdict>;
    try {
      verdict = authorize(req);
    } catch {
      return failed();
    }
    if (typeof verdict === "boolean") decide(verdict);
    else Promise.resolve(verdict).then(decide, failed);
  }

  /**
   * Subscribes an accepted, open socket to `topic` (the socket leaves every topic when it closes).
   * Returns false for a socket that is not one of ours or is closing. Throws WebSocketTopicError for a
   * topic that is not a non-empty string of at most 256 characters.
   */
  subscribe(socket: WebSocket, topic: string): boolean {
    checkTopic(topic);
    const state = this.#sockets.get(socket);
    if (state === undefined || state.closing) return false;
    (state.topics ??= new Set()).add(topic);
    let members = this.#topics.get(topic);
    if (members === undefined) this.#topics.set(topic, (members = new Set()));
    members.add(socket);
    return true;
  }

  /** Removes `socket` from `topic`; returns whether it was subscribed. */
  unsubscribe(socket: WebSocket, topic: string): boolean {
    checkTopic(topic);
    const state = this.#sockets.get(socket);
    if (state?.topics?.delete(topic) !== true) return false;
    this.#leave(socket, topic);
    return true;
  }

  /** Sockets subscribed to `topic` now. */
  subscribers(topic: string): number {
    return this.#topics.get(topic)?.size ?? 0;
  }

  /** The topics `socket` is subscribed to (a snapshot). */
  topicsOf(socket: WebSocket): string[] {
    return [...(this.#sockets.get(socket)?.topics ?? [])];
  }

  /**
   * Sends `data` as one frame to every open subscriber of `topic` (encoded once, as `broadcast`);
   * returns how many got it. Sockets not subscribed never see it.
   */
  publish(topic: string, data: string | Buffer): number {
    checkTopic(topic);
    const members = this.#topics.get(topic);
    if (members === undefined) return 0;
    const payload = typeof data === "string" ? Buffer.from(data) : data;
    const binary = typeof data !== "string";
    let sent = 0;
    for (const socket of members) {
      const state = this.#sockets.get(socket);
      if (state !== undefined && this.#sendTo(socket, state, payload, binary)) sent++;
    }
    if (sent > 0) this.#metrics?.messages.inc({ [LABEL.direction]: WS_DIRECTION.sent }, sent);
    return sent;
  }

  #leave(socket: WebSocket, topic: string): void {
    const members = this.#topics.get(topic);
    if (members === undefined) return;
    members.delete(socket);
    // Empty topics are forgotten: topic names (e.g. one per user) must not accumulate.
    if (members.size === 0) this.#topics.delete(topic);
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
    this.#draining ??= this.#drain(checkValue("WebSocketManager.drain", "timeoutMs", timeoutMs, duration(0), realtimeError));
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
      const timer = setTimer(() => done(false), ms);
      timer.unref();
      this.#closedWaiters.add(onEmpty);
    });
  }

  #refuse(socket: WebSocket, code: number, reason: string, label: WsReason): void {
    this.#metrics?.rejected.inc({ [LABEL.reason]: label });
    socket.on("error", ignoreError);
    socket.close(code, reason);
    const kill = setTimer(() => socket.terminate(), this.closeTimeoutMs);
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
    state.killTimer = setTimer(() => socket.terminate(), this.closeTimeoutMs);
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

function rejectUpgrade(socket: Duplex, status: number, text: string, headers?: Readonly<Record<string, string>>): void {
  socket.on("error", ignoreError);
  socket.end(`HTTP/1.1 ${status} ${text}\r\n${refusalHeaderLines(headers)}Connection: close\r\nContent-Length: 0\r\n\r\n`);
}

/** RFC 9110 5.6.2: a header name is a token. */
const HEADER_NAME = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;
/** The headers a refusal writes itself: a second one from `authorize` would contradict its framing. */
const FRAMING_HEADERS = new Set(["connection", "content-length", "transfer-encoding"]);

/** RFC 9110 5.5: no control character but HTAB in a value (a CR or LF splits the response, any other fails the client's parser). */
function isFieldValue(value: string): boolean {
  for (let i = 0; i < value.length; i++) {
    const c = value.charCodeAt(i);
    if ((c < 0x20 && c !== 0x09) || c === 0x7f) return false;
  }
  return true;
}

/**
 * The `authorize` headers a refusal carries, as header lines: a token name the refusal does not frame itself and
 * a value a client can parse. Anything else is dropped, so the client always reads the 401/403 it was given.
 */
function refusalHeaderLines(headers: Readonly<Record<string, string>> = {}): string {
  let lines = "";
  for (const [name, value] of Object.entries(headers)) {
    const text = String(value);
    if (HEADER_NAME.test(name) && !FRAMING_HEADERS.has(name.toLowerCase()) && isFieldValue(text)) lines += `${name}: ${text}\r\n`;
  }
  return lines;
}
