import type { Counter, Gauge, Histogram, Registry } from "prom-client";
import { counter, gauge, histogram } from "../metrics/instruments";
import { LABEL, METRIC } from "../metrics/names";

/** Values of the `reason` label on the rejected/terminated connection counters. */
export const WS_REASON = {
  /** Rejected: `maxConnections` reached (close 1013). */
  maxConnections: "max_connections",
  /** Rejected: the manager is draining (close 1001). */
  draining: "draining",
  /** Terminated: no pong within one heartbeat interval. */
  heartbeatTimeout: "heartbeat_timeout",
  /** Closed: send buffer over `maxBufferedBytes` (close 1008). */
  slowConsumer: "slow_consumer",
  /** Terminated: still open when the drain timeout ran out. */
  drainTimeout: "drain_timeout",
  /** Refused before the upgrade: `authorize` answered false or a 401/403 refusal. */
  unauthorized: "unauthorized",
  /** Refused before the upgrade: `authorize` threw, rejected, answered something invalid (500) or timed out (503). */
  authorizeFailed: "authorize_failed",
} as const;
/** A `reason` label value of the WebSocket metrics (see WS_REASON). */
export type WsReason = (typeof WS_REASON)[keyof typeof WS_REASON];

/** Values of the `direction` label on `uaip_ws_messages_total`. */
export const WS_DIRECTION = { sent: "sent", received: "received" } as const;

/** Values of the `result` label on `uaip_batch_flushes_total`. */
export const BATCH_RESULT = { success: "success", error: "error" } as const;

/** Ping round trips: loopback is sub-ms, a cross-AZ ALB hop a few ms, a stalled peer seconds. */
export const WS_PING_BUCKETS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5];
/** Messages per batch: the seed's batchSize is 100. */
export const BATCH_SIZE_BUCKETS = [1, 2, 5, 10, 25, 50, 75, 100, 250, 500, 1000];

/**
 * The WebSocket series. Several managers may share a registry: the gauges are moved with
 * inc/dec (never set), so their values add up per process.
 */
export class WebSocketMetrics {
  readonly connections: Gauge<string>;
  readonly maxConnections: Gauge<string>;
  readonly rejected: Counter<string>;
  readonly terminated: Counter<string>;
  readonly messages: Counter<string>;
  readonly pingLatency: Histogram<string>;

  constructor(registry: Registry) {
    this.connections = gauge(registry, METRIC.wsConnections, "Open WebSocket connections.");
    this.maxConnections = gauge(
      registry,
      METRIC.wsMaxConnections,
      "WebSocket connections allowed (maxConnections); more are closed with 1013.",
    );
    this.rejected = counter(
      registry,
      METRIC.wsRejectedConnectionsTotal,
      "WebSocket connections refused, by reason (max_connections: 1013, draining: 1001).",
      [LABEL.reason],
    );
    this.terminated = counter(
      registry,
      METRIC.wsTerminatedConnectionsTotal,
      "Accepted WebSocket connections the server cut, by reason (heartbeat_timeout, slow_consumer, drain_timeout).",
      [LABEL.reason],
    );
    this.messages = counter(registry, METRIC.wsMessagesTotal, "WebSocket frames sent and received, by direction.", [
      LABEL.direction,
    ]);
    this.pingLatency = histogram(
      registry,
      METRIC.wsPingLatencySeconds,
      "Heartbeat ping to pong round trip, seconds.",
      [],
      WS_PING_BUCKETS,
    );
    // Present from the first scrape (rate() over a missing series is empty, not 0).
    for (const reason of [WS_REASON.maxConnections, WS_REASON.draining, WS_REASON.unauthorized, WS_REASON.authorizeFailed])
      this.rejected.inc({ [LABEL.reason]: reason }, 0);
    for (const reason of [WS_REASON.heartbeatTimeout, WS_REASON.slowConsumer, WS_REASON.drainTimeout])
      this.terminated.inc({ [LABEL.reason]: reason }, 0);
    for (const direction of Object.values(WS_DIRECTION)) this.messages.inc({ [LABEL.direction]: direction }, 0);
  }
}

/** The batcher series. */
export class BatchMetrics {
  readonly flushes: Counter<string>;
  readonly size: Histogram<string>;

  constructor(registry: Registry) {
    this.flushes = counter(registry, METRIC.batchFlushesTotal, "Batches broadcast, by result (success, error).", [LABEL.result]);
    this.size = histogram(registry, METRIC.batchSize, "Messages per flushed batch.", [], BATCH_SIZE_BUCKETS);
    for (const result of Object.values(BATCH_RESULT)) this.flushes.inc({ [LABEL.result]: result }, 0);
  }
}
