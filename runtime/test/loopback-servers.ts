import type { Server } from "node:http";
import type { AddressInfo } from "node:net";

/**
 * Registers an afterEach that tears down every server `listen` started, even when an assertion
 * failed (so a failing test cannot hang jest), and returns `listen`: the server on a free loopback
 * port, resolving to its base URL.
 */
export function useLoopbackServers(): (server: Server) => Promise<string> {
  const servers: Server[] = [];
  afterEach(() => {
    for (const s of servers.splice(0)) {
      s.closeAllConnections();
      s.close();
    }
  });
  return async (server) => {
    servers.push(server);
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
    return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  };
}
