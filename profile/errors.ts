import { UaipError } from "@uaip/runtime";

/**
 * A component was given args it cannot build safely (e.g. multi-AZ Redis without a replica).
 * Thrown at program time so `pulumi preview` and the offline plan fail before any cloud call,
 * with the offending arg in `key` and the fix in the message.
 */
export class ComponentArgsError extends UaipError {
  static readonly CODE = "UAIP_COMPONENT_ARGS_INVALID";
  /** The arg path that is wrong, e.g. "RedisArgs.replicas". */
  readonly key: string;

  constructor(key: string, message: string) {
    super(ComponentArgsError.CODE, `${key}: ${message}`);
    this.key = key;
  }
}
