import type { RedisOptions } from "ioredis";
import { connectRedis, type RedisClient, type RedisMode } from "../redis/connect";
import { setTimer, timerDelay } from "../timer";

/** Where L2 lives: an injected client, a URL, or host/port from the settings. */
export interface RedisTarget {
  /** An ioredis client (Redis or Cluster) owned by the caller: used as is and never quit by `close()`. */
  client?: RedisClient;
  /** `standalone` (one primary) or `cluster` (Redis Cluster, ElastiCache Serverless). @default "standalone" */
  mode?: RedisMode;
  /** `redis://` or `rediss://` URL; wins over host/port. */
  url?: string;
  host: string;
  port: number;
  tls: boolean;
  password?: string;
  commandTimeoutMs: number;
}

/** Reconnect delay: 50 ms doubling to a 2 s cap, forever, so a returning Redis is picked up within ~2 s without a retry storm. */
export function reconnectDelay(attempt: number): number {
  return Math.min(50 * 2 ** Math.min(attempt, 6), 2_000);
}

/**
 * Options for the command connection. A cache must fail fast: no offline queue (commands issued while
 * disconnected reject at once instead of piling up) and no per-request retries (the circuit breaker
 * decides when to try again). Per-command timeouts are applied by the caller (`withTimeout`), because
 * reads need a short one and a SCAN page of an invalidation a longer one, on the same connection.
 */
export function commandOptions(target: RedisTarget): RedisOptions {
  return {
    // ioredis arms a timer with it: 10 x a valid command timeout can pass Node's limit.
    connectTimeout: timerDelay(Math.max(1_000, target.commandTimeoutMs * 10)),
    enableOfflineQueue: false,
    maxRetriesPerRequest: 0,
    retryStrategy: reconnectDelay,
    lazyConnect: false,
    // ioredis keeps a ref'd timer this long after disconnect() when the socket is not connected; a short one lets processes exit promptly.
    disconnectTimeout: 200,
  };
}

/**
 * Overrides for the subscriber connection: SUBSCRIBE may wait for the connection (offline queue on,
 * no timeout). The bus re-subscribes after every reconnect itself (InvalidationBus): ioredis's own
 * autoResubscribe sends SUBSCRIBE with no rejection handler, so a connection closed while that
 * command is queued (a shutdown during a Redis restart) is an unhandled rejection, which ends the process.
 */
export const SUBSCRIBER_OVERRIDES: RedisOptions = {
  enableOfflineQueue: true,
  maxRetriesPerRequest: null,
  commandTimeout: undefined,
  autoResubscribe: false,
  retryStrategy: reconnectDelay,
  lazyConnect: false,
  disconnectTimeout: 200,
};

/** Creates the command connection (through the runtime's one Redis factory), or returns the injected client. */
export function openCommandClient(target: RedisTarget): { client: RedisClient; owned: boolean } {
  if (target.client) return { client: target.client, owned: false };
  const endpoint = {
    mode: target.mode,
    url: target.url,
    host: target.host,
    port: target.port,
    tls: target.tls,
    ...(target.password ? { password: target.password } : {}),
  };
  return { client: connectRedis(endpoint, commandOptions(target)), owned: true };
}

/** Rejects after `ms` (the command itself is not cancelled; its late reply is dropped). */
export function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  // Plain callbacks rather than Promise.race + finally: this wraps every L2 read, and each extra promise shows in the latency.
  return new Promise<T>((resolve, reject) => {
    const timer = setTimer(() => reject(new Error(`redis command timed out after ${ms} ms`)), ms);
    timer.unref();
    promise.then(
      (value) => {
        clearTimeout(timer);
        resolve(value);
      },
      (error: unknown) => {
        clearTimeout(timer);
        reject(error);
      },
    );
  });
}

/** Quits politely when Redis answers, otherwise drops the socket; never throws. */
export async function release(client: RedisClient): Promise<void> {
  try {
    if (client.status === "ready") await withTimeout(client.quit(), 500);
  } catch {
    // fall through: disconnect below releases the socket either way
  }
  client.disconnect();
}
