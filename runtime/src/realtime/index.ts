export * from "./backoff";
export * from "./batcher";
export * from "./client";
export * from "./close-codes";
export * from "./errors";
export * from "./manager";
export { BATCH_RESULT, BATCH_SIZE_BUCKETS, WS_DIRECTION, WS_PING_BUCKETS, WS_REASON, type WsReason } from "./metrics";
export * from "./from-settings";
export { PeerDependencyMissingError } from "../peers";
