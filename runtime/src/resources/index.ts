// Public API of the resources area (`@uaip/runtime/resources`; explicit: the hysteresis switch and the flag parser stay private).
export {
  MemoryMonitor,
  MemoryMonitorOptionsError,
  enforcedHeapLimitBytes,
  HEAP_LIMIT_MISMATCH_WARNING,
  type MemoryConfig,
  type PressureResource,
  type MemoryMonitorOptions,
  type MemorySample,
} from "./memory-monitor";
export * from "./pressure-gate";
