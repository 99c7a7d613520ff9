import { reconnectDelay, type ReconnectStrategy } from "./backoff";
import { isApplicationRefusal } from "./close-codes";
import { ClientClosedError, ClientQueueFullError, RealtimeOptionsError } from "./errors";
import { anything, duration, func, integer, oneOrListOf, required, string, validateOptions, type SpecFor } from "../options";
import { checkReconnectStrategy, realtimeError } from "./options";
import { loadPeer } from "../peers";
import { setTimer } from "../timer";

/*
 * Why our own client rather than partysocket (or reconnecting-websocket, which it forks):
 * partysocket 1.3.0's `_getNextDelay()` is `minReconnectionDelay × growFactor^(retry-1)` with no
 * random part at all, and the first retry is immediate (delay 0), so after a deploy every client
 * of a pod comes back at the same instant; it has no hook to supply the delay. It also retries on
 * 4xxx refusals unless `shouldReconnectOnClose` says otherwise; its outgoing queue is unbounded
 * by default, and once `maxEnqueuedMessages` is reached `send()` drops the message returning the
 * same `false` as for a queued one. What we need on top of the
 * WHATWG WebSocket is small (backoff with full jitter per attempt, a bounded queue that refuses
 * loudly, stop on 4xxx), so it is written here, on the standard WebSocket interface: the
 * browser's, Node 22's global, or `ws`.
 */

/** The WHATWG WebSocket surface this client uses; the browser's, Node's global and `ws` all provide it. */
export interface WebSocketLike {
  readonly readyState: number;
  send(data: string | ArrayBufferLike | ArrayBufferView): void;
  close(code?: number, reason?: string): void;
  onopen: ((event: unknown) => void) | null;
  onclose: ((event: { code: number; reason: string }) => void) | null;
  onmessage: ((event: { data: unknown }) => void) | null;
  onerror: ((event: unknown) => void) | null;
}
/** A WHATWG WebSocket constructor (the global one, or `ws`'s). */
export type WebSocketConstructor = new (url: string, protocols?: string | string[]) => WebSocketLike;

/** A message ReconnectingClient sends: text or binary. */
export type ClientMessage = string | ArrayBufferLike | ArrayBufferView;

export interface ReconnectingClientOptions {
  /** ws:// or wss:// URL. */
  url: string;
  /** The profile's `ws.reconnectStrategy` (ms): attempt n waits a uniform draw in [0, min(maxDelay, initialDelay × factor^n)). */
  reconnectStrategy: ReconnectStrategy;
  protocols?: string | string[];
  /** WebSocket implementation. @default globalThis.WebSocket, else `ws` */
  WebSocket?: WebSocketConstructor;
  /** Messages kept while disconnected; `send()` throws ClientQueueFullError beyond it. @default 1000 */
  maxQueued?: number;
  /**
   * The attempt counter (and so the delay) resets only once a connection has stayed open this
   * long: a server that accepts and closes at once (1013 when full) keeps the client backing off. @default 5000
   */
  stableAfterMs?: number;
  /** A connection attempt not open after this many ms is abandoned and counts as a failure. @default 10000 */
  connectTimeoutMs?: number;
  /** Whether to reconnect after a close; the client gives up only when this says no or `close()` is called. @default reconnect unless 4000-4999 (application/auth refusal) */
  shouldReconnect?: (code: number, reason: string) => boolean;
  /** Uniform [0, 1) source for the jitter (tests pin it). @default Math.random */
  random?: () => number;
  onOpen?: () => void;
  onMessage?: (data: unknown) => void;
  /** After every close; `willReconnect` false means the client has stopped for good. */
  onClose?: (code: number, reason: string, willReconnect: boolean) => void;
  /** Before each wait: `attempt` counts from 0 since the last stable connection. */
  onReconnecting?: (attempt: number, delayMs: number) => void;
}

const OPEN = 1;

const RECONNECTING_CLIENT_OPTIONS_SPEC = {
  url: required(string({ pattern: /^wss?:\/\/[^\s/]/i, what: "a ws:// or wss:// URL" })),
  reconnectStrategy: anything,
  // Sub-protocols: one token or a list of tokens (RFC 6455 section 4.1).
  protocols: oneOrListOf(string({ pattern: /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/, what: "a sub-protocol token" })),
  WebSocket: func<WebSocketConstructor>("a WebSocket constructor"),
  maxQueued: integer(0, 100_000_000),
  stableAfterMs: duration(0),
  connectTimeoutMs: duration(1),
  shouldReconnect: func(),
  random: func(),
  onOpen: func(),
  onMessage: func(),
  onClose: func(),
  onReconnecting: func(),
} satisfies SpecFor<ReconnectingClientOptions>;

function defaultWebSocket(): WebSocketConstructor {
  const global = (globalThis as { WebSocket?: WebSocketConstructor }).WebSocket;
  if (global) return global;
  // Node < 22 has no global WebSocket; `ws` implements the same interface.
  return loadPeer<{ WebSocket: WebSocketConstructor }>("ws").WebSocket;
}

type Timer = ReturnType<typeof setTimeout>;
const unref = (t: Timer): Timer => ((t as { unref?: () => void }).unref?.(), t);

/**
 * A WebSocket that reconnects after any close (server restart, deploy, network loss) with
 * exponential backoff and full jitter, and stops only on `close()` or a refusal `shouldReconnect`
 * rejects (by default the 4xxx application codes, e.g. an auth failure, where retrying cannot help).
 * Messages sent while disconnected are queued (bounded) and sent on the next open.
 */
export class ReconnectingClient {
  readonly url: string;
  readonly reconnectStrategy: ReconnectStrategy;
  readonly maxQueued: number;
  readonly #options: ReconnectingClientOptions;
  readonly #Ctor: WebSocketConstructor;
  readonly #stableAfterMs: number;
  readonly #connectTimeoutMs: number;
  readonly #shouldReconnect: (code: number, reason: string) => boolean;
  #ws: WebSocketLike | undefined;
  #queue: ClientMessage[] = [];
  #attempt = 0;
  #retryTimer: Timer | undefined;
  #stableTimer: Timer | undefined;
  #connectTimer: Timer | undefined;
  #stopped: string | undefined;

  constructor(options: ReconnectingClientOptions) {
    const where = "ReconnectingClient";
    if (options === undefined)
      throw new RealtimeOptionsError("options", `${where}: options are required: { url, reconnectStrategy }`);
    const o = validateOptions(where, options, RECONNECTING_CLIENT_OPTIONS_SPEC, realtimeError);
    this.url = o.url!;
    this.reconnectStrategy = checkReconnectStrategy(where, "reconnectStrategy", o.reconnectStrategy);
    this.maxQueued = o.maxQueued ?? 1_000;
    this.#stableAfterMs = o.stableAfterMs ?? 5_000;
    this.#connectTimeoutMs = o.connectTimeoutMs ?? 10_000;
    this.#shouldReconnect = options.shouldReconnect ?? ((code) => !isApplicationRefusal(code));
    this.#options = options;
    this.#Ctor = options.WebSocket ?? defaultWebSocket();
    this.#connect();
  }

  /** True while a connection is open. */
  get connected(): boolean {
    return this.#ws?.readyState === OPEN;
  }

  /** Reconnect attempts since the last stable connection. */
  get attempt(): number {
    return this.#attempt;
  }

  /** Why the client stopped (close() or the refusing close code), or undefined while it runs. */
  get stopped(): string | undefined {
    return this.#stopped;
  }

  /** Messages waiting for the next open. */
  get queued(): number {
    return this.#queue.length;
  }

  /** Sends now when open; otherwise queues, throwing ClientQueueFullError when `maxQueued` are waiting. */
  send(data: ClientMessage): void {
    if (this.#stopped) throw new ClientClosedError(this.#stopped);
    if (this.#ws?.readyState === OPEN) return this.#ws.send(data);
    if (this.#queue.length >= this.maxQueued) throw new ClientQueueFullError(this.maxQueued);
    this.#queue.push(data);
  }

  /** Stops for good and closes the socket. Returns the messages that were still queued (not sent). */
  close(code = 1000, reason = ""): ClientMessage[] {
    this.#stop("close() called");
    const ws = this.#ws;
    this.#ws = undefined;
    if (ws) {
      ws.onclose = null;
      ws.onopen = null;
      ws.onmessage = null;
      ws.close(code, reason);
      this.#options.onClose?.(code, reason, false);
    }
    return this.#queue.splice(0);
  }

  #stop(why: string): void {
    this.#stopped ??= why;
    for (const t of [this.#retryTimer, this.#stableTimer, this.#connectTimer]) clearTimeout(t);
  }

  #connect(): void {
    if (this.#stopped) return;
    let ws: WebSocketLike;
    try {
      ws = new this.#Ctor(this.url, this.#options.protocols);
    } catch {
      return this.#scheduleRetry();
    }
    this.#ws = ws;
    this.#connectTimer = unref(setTimer(() => ws.close(), this.#connectTimeoutMs));
    ws.onerror = () => undefined; // a close always follows; that is where we decide
    ws.onopen = () => {
      clearTimeout(this.#connectTimer);
      this.#stableTimer = unref(setTimer(() => (this.#attempt = 0), this.#stableAfterMs));
      for (const data of this.#queue.splice(0)) ws.send(data);
      this.#options.onOpen?.();
    };
    ws.onmessage = (event) => this.#options.onMessage?.(event.data);
    ws.onclose = ({ code, reason }) => {
      clearTimeout(this.#connectTimer);
      clearTimeout(this.#stableTimer);
      this.#ws = undefined;
      if (!this.#stopped && !this.#shouldReconnect(code, reason))
        this.#stop(`server closed with ${code}${reason ? ` "${reason}"` : ""}`);
      this.#options.onClose?.(code, reason, !this.#stopped);
      if (!this.#stopped) this.#scheduleRetry();
    };
  }

  #scheduleRetry(): void {
    const delay = reconnectDelay(this.#attempt, this.reconnectStrategy, this.#options.random);
    this.#options.onReconnecting?.(this.#attempt, delay);
    this.#attempt++;
    this.#retryTimer = unref(setTimer(() => this.#connect(), delay));
  }
}
