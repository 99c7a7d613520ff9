import { UaipError } from "./errors";

/**
 * The optional peer dependencies: heavy packages that only one part of the runtime needs (a CDN
 * purge, the PostgreSQL pool and migrations, the WebSocket server). A service installs the ones it
 * uses; each is loaded the first time its part runs, never when the package is imported, so
 * `@uaip/runtime/cache` works without `pg`, `ws` or the AWS SDK installed.
 */
export const OPTIONAL_PEERS = {
  "@aws-sdk/client-cloudfront": "CloudFrontPurger (cache.cdn purges)",
  pg: "the PostgreSQL pool, migrations and roles (@uaip/runtime/db)",
  ws: "the WebSocket server (WebSocketManager) and, on Node < 22, ReconnectingClient",
} as const;

/** The name of an optional peer dependency (pg, ws, the AWS SDK). */
export type OptionalPeer = keyof typeof OPTIONAL_PEERS;

/** A part of the runtime was used whose optional peer dependency is not installed. */
export class PeerDependencyMissingError extends UaipError {
  static readonly CODE = "UAIP_PEER_DEPENDENCY_MISSING";
  /** The npm package to install. */
  readonly packageName: OptionalPeer;

  constructor(packageName: OptionalPeer, options?: { cause?: unknown }) {
    super(
      PeerDependencyMissingError.CODE,
      `${OPTIONAL_PEERS[packageName]} needs the optional peer dependency "${packageName}", which is not installed; install it next to @uaip/runtime: npm install ${packageName}`,
      options,
    );
    this.packageName = packageName;
  }
}

/** True when `error` says that `name` itself (not one of its own dependencies) cannot be found. */
function isMissing(error: unknown, name: string): boolean {
  const e = error as { code?: string; message?: string };
  return (
    (e?.code === "MODULE_NOT_FOUND" || e?.code === "ERR_MODULE_NOT_FOUND") &&
    typeof e.message === "string" &&
    new RegExp(`['"]${name.replace(/[/\\^$.*+?()[\]{}|-]/g, "\\$&")}['"]`).test(e.message)
  );
}

const loaded = new Map<OptionalPeer, unknown>();

/**
 * `require(name)` on first use, cached; a missing package throws PeerDependencyMissingError naming
 * it and the install line. Any other load failure (a broken install) is rethrown as it is.
 */
export function loadPeer<T>(name: OptionalPeer): T {
  if (loaded.has(name)) return loaded.get(name) as T;
  let module: unknown;
  try {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    module = require(name);
  } catch (error) {
    if (isMissing(error, name)) throw new PeerDependencyMissingError(name, { cause: error });
    throw error;
  }
  loaded.set(name, module);
  return module as T;
}
