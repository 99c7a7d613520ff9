export * from "./hysteresis";
export * from "./memory-monitor";
export * from "./pressure-gate";
