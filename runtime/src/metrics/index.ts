export * from "./route";
export * from "./window";
export * from "./resources";
export * from "./http-metrics";
