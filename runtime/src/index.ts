export * from "./errors";
export * from "./config/settings";
export * from "./config/contract";
export * from "./config/load";
export * from "./metrics/names";
export * from "./metrics/instruments";
export * from "./cache";
