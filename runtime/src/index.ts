export * from "./errors";
export * from "./config/settings";
export * from "./config/contract";
export * from "./config/load";
export * from "./metrics/names";
export * from "./metrics/instruments";
export * from "./cache";
export * from "./metrics/index";
export * from "./ratelimit/index";
// WebSockets and batching: WebSocketManager, MessageBatcher, ReconnectingClient, reconnectDelay, createRealtime
export * from "./realtime/index";
export * from "./create-runtime";
