/**
 * The repository's tsconfig uses `moduleResolution: "node"`, which ignores package `exports`, so
 * TypeScript cannot see the SDK's subpath entry points (Node and tsx resolve them fine). These
 * declarations point the type checker at the same files. Harmless under node16/bundler resolution.
 */
declare module "@grafana/grafana-foundation-sdk/common" {
  export * from "@grafana/grafana-foundation-sdk/dist/common";
}
declare module "@grafana/grafana-foundation-sdk/dashboard" {
  export * from "@grafana/grafana-foundation-sdk/dist/dashboard";
}
declare module "@grafana/grafana-foundation-sdk/prometheus" {
  export * from "@grafana/grafana-foundation-sdk/dist/prometheus";
}
declare module "@grafana/grafana-foundation-sdk/timeseries" {
  export * from "@grafana/grafana-foundation-sdk/dist/timeseries";
}
