export * from "./errors";
export * from "./types";
export * from "./memory-store";
export * from "./redis-store";
export * from "./limiter";
export * from "./headers";
export * from "./middleware";
