/**
 * Every public export of @uaip/runtime, from every entry point: the root and each subpath of the
 * package's `exports` map. The option tests enumerate this, so an export that moves to a subpath is
 * still fed the bad-value battery (a test checks that this list covers every subpath).
 */
export * from "@uaip/runtime";
export * from "@uaip/runtime/cache";
export * from "@uaip/runtime/compression";
export * from "@uaip/runtime/config";
export * from "@uaip/runtime/db";
export * from "@uaip/runtime/fastify";
export * from "@uaip/runtime/metrics";
export * from "@uaip/runtime/profiler";
export * from "@uaip/runtime/ratelimit";
export * from "@uaip/runtime/realtime";
export * from "@uaip/runtime/resources";

/** The subpaths re-exported above, checked against runtime/package.json's `exports`. */
export const ENTRY_POINTS = [
  "cache",
  "compression",
  "config",
  "db",
  "fastify",
  "metrics",
  "profiler",
  "ratelimit",
  "realtime",
  "resources",
];
