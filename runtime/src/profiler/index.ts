export * from "./cpu-profiler";
export * from "./admin-trigger";
