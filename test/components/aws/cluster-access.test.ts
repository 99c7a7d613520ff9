import { createServer, type Server } from "node:net";
import { accessFix, assertApiReachable, ClusterApiUnreachableError, tcpProbe } from "../../../components/aws/cluster-access";

/** A real listener on loopback, and a port that was just closed (nothing listens there). */
let server: Server;
let openPort: number;
let closedPort: number;

beforeAll(async () => {
  server = createServer((socket) => socket.end());
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  openPort = (server.address() as { port: number }).port;
  const spare = createServer();
  await new Promise<void>((r) => spare.listen(0, "127.0.0.1", r));
  closedPort = (spare.address() as { port: number }).port;
  await new Promise((r) => spare.close(r));
});
afterAll(() => new Promise((r) => server.close(r)));

const PUBLIC = { endpointPublicAccess: true, publicAccessCidrs: ["198.51.99.0/24"] };

describe("the deploy host's path to the Kubernetes API", () => {
  it("passes when the endpoint accepts a connection", async () => {
    await expect(assertApiReachable(`https://127.0.0.1:${openPort}`, PUBLIC)).resolves.toBeUndefined();
  });

  it("fails in well under a second when nothing answers, naming the endpoint and the fix (public endpoint)", async () => {
    const started = Date.now();
    const options = { attempts: 2, retryDelayMs: 10, timeoutMs: 500 };
    const err = await assertApiReachable(`https://127.0.0.1:${closedPort}`, PUBLIC, options).catch((e) => e);
    // A refused connection fails the attempt at once: waiting out every attempt's timeout would take attempts ×
    // timeoutMs (the old 2 s bound let that through).
    expect(Date.now() - started).toBeLessThan(options.attempts * options.timeoutMs);
    expect(err).toBeInstanceOf(ClusterApiUnreachableError);
    expect(err.code).toBe("UAIP_CLUSTER_API_UNREACHABLE");
    expect(err.message).toContain(`cannot reach the Kubernetes API at 127.0.0.1:${closedPort}`);
    expect(err.message).toContain("ECONNREFUSED");
    expect(err.message).toContain('admits only ["198.51.99.0/24"]: add this host\'s egress address');
  });

  it("a private endpoint's fix says to run from inside the VPC or open the endpoint to this host", () => {
    expect(accessFix({ endpointPublicAccess: false, publicAccessCidrs: [] })).toMatch(
      /the endpoint is private: run `pulumi up` from inside the VPC.*uaip:cluster\.publicAccessCidrs/,
    );
  });

  it("retries (a new endpoint's DNS can lag), then succeeds once it answers", async () => {
    let calls = 0;
    const flaky = async () => {
      if (++calls < 3) throw new Error("getaddrinfo ENOTFOUND");
    };
    await assertApiReachable("https://ABC.gr7.us-east-1.eks.amazonaws.com", PUBLIC, { probe: flaky, retryDelayMs: 1 });
    expect(calls).toBe(3);
  });

  it("a connection that never opens times out instead of hanging", async () => {
    // 10.255.255.1 is not routed here; the probe must give up on its own timer. Only the timer is
    // exercised: the injected probe stands in for the connect, so no packet leaves the machine.
    const hang = (_h: string, _p: number, timeoutMs: number) =>
      new Promise<void>((_, reject) => setTimeout(() => reject(new Error(`no answer within ${timeoutMs} ms`)), timeoutMs));
    const err = await assertApiReachable("https://10.255.255.1", PUBLIC, { probe: hang, attempts: 1, timeoutMs: 50 }).catch(
      (e) => e,
    );
    expect(err.message).toContain("no answer within 50 ms");
  });

  it("tcpProbe resolves on loopback and rejects on a closed port", async () => {
    await expect(tcpProbe("127.0.0.1", openPort, 1000)).resolves.toBeUndefined();
    await expect(tcpProbe("127.0.0.1", closedPort, 1000)).rejects.toThrow(/ECONNREFUSED/);
  });
});
