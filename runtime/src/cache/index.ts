export * from "./errors";
export * from "./options";
export * from "./glob";
export * from "./breaker";
export { CACHE_OPERATION, type CacheOperation } from "./metrics";
export * from "./manager";
export * from "./cdn";
export * from "./cloudfront";
export * from "./invalidator";
