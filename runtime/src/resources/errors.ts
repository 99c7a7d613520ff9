import { UaipError } from "../errors";

/** A MemoryMonitor setting is malformed; `key` names it. */
export class MemoryMonitorOptionsError extends UaipError {
  static readonly CODE = "UAIP_MEMORY_MONITOR_OPTIONS_INVALID";
  constructor(
    readonly key: string,
    message: string,
  ) {
    super(MemoryMonitorOptionsError.CODE, `memory monitor ${key}: ${message}`);
  }
}
