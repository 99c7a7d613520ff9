export * from "./errors";
export * from "./config/settings";
export * from "./config/contract";
export * from "./config/load";
export * from "./metrics/names";
export * from "./metrics/instruments";
export * from "./cache";
export * from "./metrics/index";
export * from "./ratelimit/index";
export * from "./db/index";
// WebSockets and batching: WebSocketManager, MessageBatcher, ReconnectingClient, reconnectDelay, createRealtime
export * from "./realtime/index";
// Resource monitors, CPU profiler and response compression (issue #14).
export * from "./resources/index";
export * from "./profiler/index";
export * from "./compression/index";
export * from "./create-runtime";
