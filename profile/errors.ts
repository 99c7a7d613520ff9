import { UaipError } from "@uaip/runtime";

/**
 * The stack's error family. Every error the stack (profile, checks, components) throws on purpose
 * is a StackError: a UaipError with a stable `code` to branch on and, where one exists, the
 * underlying error as `cause`. Messages name the key that is wrong, its value and the fix.
 */
export class StackError extends UaipError {}

/** One wrong key of the stack configuration. */
export interface ProfileIssue {
  /** Key path in the stack configuration, e.g. "services[1].hpa.max". */
  path: string;
  message: string;
}

/** A stack configuration that cannot be planned. The message lists every issue, key first. */
export class ProfileError extends StackError {
  static readonly CODE = "UAIP_PROFILE_INVALID";

  constructor(
    readonly issues: ProfileIssue[],
    options?: { cause?: unknown },
  ) {
    super(ProfileError.CODE, issues.map((i) => `${i.path}: ${i.message}`).join("\n"), options);
  }
}

/**
 * A component was given args it cannot build safely (e.g. multi-AZ Redis without a replica).
 * Thrown at program time so `pulumi preview` and the offline plan fail before any cloud call,
 * with the offending key in `key` and the fix in the message. Through AwsPlatform the key is the
 * profile's (`network.cidr`, see components/aws/arg-issues.ts); a component used on its own
 * names its arg (`NetworkArgs.cidrBlock`).
 */
export class ComponentArgsError extends StackError {
  static readonly CODE = "UAIP_COMPONENT_ARGS_INVALID";
  /** The key that is wrong, e.g. "RedisArgs.replicas". */
  readonly key: string;
  /** The message without the key, to restate it under another key. */
  readonly detail: string;

  constructor(key: string, message: string, options?: { cause?: unknown }) {
    super(ComponentArgsError.CODE, `${key}: ${message}`, options);
    this.key = key;
    this.detail = message;
  }
}
