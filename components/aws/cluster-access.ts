import { connect } from "node:net";
import { StackError } from "../../profile/errors";

/**
 * The deploy host's path to the Kubernetes API. Every Kubernetes resource of the stack is applied
 * by the host that runs `pulumi up`, through the EKS endpoint; when that host cannot reach it,
 * the Kubernetes provider retries each resource for many minutes before failing. This probe runs
 * once, right after the cluster exists and before any Kubernetes resource, and fails in seconds
 * with what to change.
 */
export class ClusterApiUnreachableError extends StackError {
  static readonly CODE = "UAIP_CLUSTER_API_UNREACHABLE";
  constructor(message: string, options?: { cause?: unknown }) {
    super(ClusterApiUnreachableError.CODE, message, options);
  }
}

export interface EndpointAccess {
  endpointPublicAccess: boolean;
  publicAccessCidrs: string[];
}

/** Resolves when a TCP connection to host:port opens within `timeoutMs`; rejects otherwise. */
export function tcpProbe(host: string, port: number, timeoutMs: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host, port });
    const timer = setTimeout(() => socket.destroy(new Error(`no answer within ${timeoutMs} ms`)), timeoutMs);
    socket.once("connect", () => {
      clearTimeout(timer);
      socket.end();
      resolve();
    });
    socket.once("error", (err) => {
      clearTimeout(timer);
      reject(err);
    });
  });
}

/** The fix, by how the endpoint is exposed. */
export function accessFix(access: EndpointAccess): string {
  return access.endpointPublicAccess
    ? `the public endpoint admits only ${JSON.stringify(access.publicAccessCidrs)}: add this host's egress address (e.g. \`curl -s https://checkip.amazonaws.com\`/32) to uaip:cluster.publicAccessCidrs, or run \`pulumi up\` from a host inside those ranges`
    : "the endpoint is private: run `pulumi up` from inside the VPC (VPN, peering, or a CI runner in the VPC), or set uaip:cluster.endpointPublicAccess true with uaip:cluster.publicAccessCidrs listing this host's egress /32";
}

export interface ReachabilityOptions {
  /** @default tcpProbe */
  probe?: (host: string, port: number, timeoutMs: number) => Promise<void>;
  /** Per attempt. @default 10000 */
  timeoutMs?: number;
  /** A new endpoint's DNS name can lag the cluster by a few seconds. @default 3 */
  attempts?: number;
  /** @default 5000 */
  retryDelayMs?: number;
}

/** Fails fast, naming the endpoint and the fix, when the deploy host cannot open a connection to the API. */
export async function assertApiReachable(
  endpoint: string,
  access: EndpointAccess,
  options: ReachabilityOptions = {},
): Promise<void> {
  const url = new URL(endpoint);
  const port = Number(url.port || 443);
  const { probe = tcpProbe, timeoutMs = 10_000, attempts = 3, retryDelayMs = 5_000 } = options;
  let last: unknown;
  for (let i = 0; i < attempts; i++) {
    try {
      await probe(url.hostname, port, timeoutMs);
      return;
    } catch (err) {
      last = err;
      if (i < attempts - 1) await new Promise((r) => setTimeout(r, retryDelayMs).unref());
    }
  }
  const reason = last instanceof Error ? last.message : String(last);
  throw new ClusterApiUnreachableError(
    `this host cannot reach the Kubernetes API at ${url.host} (${reason}) after ${attempts} attempts, so no Kubernetes resource can be applied; ${accessFix(access)}`,
    { cause: last },
  );
}
