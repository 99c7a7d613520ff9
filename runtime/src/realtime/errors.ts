import { UaipError } from "../errors";
import { showValue } from "../options";

/** A WebSocketManager, MessageBatcher or ReconnectingClient option is malformed; `key` names it. */
export class RealtimeOptionsError extends UaipError {
  static readonly CODE = "UAIP_REALTIME_OPTIONS_INVALID";
  readonly key: string;

  constructor(key: string, message: string) {
    super(RealtimeOptionsError.CODE, `realtime option ${key}: ${message}`);
    this.key = key;
  }
}

/** A message was added to a MessageBatcher after `close()` (or while it was closing). */
export class BatcherClosedError extends UaipError {
  static readonly CODE = "UAIP_BATCHER_CLOSED";
  constructor() {
    super(BatcherClosedError.CODE, "the MessageBatcher is closed; messages added after close() are refused, create a new one");
  }
}

/**
 * The `broadcast` of one batch failed. The batch is not retried (a retry loop would hold the
 * queue and stale messages); its messages are in `batch` for a caller that wants to resend.
 */
export class BatchFlushError<T = unknown> extends UaipError {
  static readonly CODE = "UAIP_BATCH_FLUSH_FAILED";
  readonly batch: readonly T[];

  constructor(batch: readonly T[], cause: unknown) {
    super(
      BatchFlushError.CODE,
      `broadcast of a batch of ${batch.length} message(s) failed: ${(cause as Error)?.message ?? String(cause)}`,
      { cause },
    );
    this.batch = batch;
  }
}

/** ReconnectingClient.send() while disconnected and its outgoing queue is full: the message was not queued. */
export class ClientQueueFullError extends UaipError {
  static readonly CODE = "UAIP_WS_CLIENT_QUEUE_FULL";
  constructor(limit: number) {
    super(
      ClientQueueFullError.CODE,
      `not connected and ${limit} message(s) already queued; raise maxQueued or wait for the "open" callback`,
    );
  }
}

/** ReconnectingClient.send() after close(), or after the server refused it for good (a 4xxx close code). */
export class ClientClosedError extends UaipError {
  static readonly CODE = "UAIP_WS_CLIENT_CLOSED";
  constructor(reason: string) {
    super(ClientClosedError.CODE, `the client is closed (${reason}); create a new ReconnectingClient`);
  }
}

/** A WebSocket topic name is unusable (not a non-empty string of at most 256 characters). */
export class WebSocketTopicError extends UaipError {
  static readonly CODE = "UAIP_WS_TOPIC_INVALID";
  constructor(topic: unknown) {
    super(WebSocketTopicError.CODE, `a topic must be a non-empty string of at most 256 characters, got ${showValue(topic)}`);
  }
}
