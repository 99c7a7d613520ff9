import { createServer, type Socket } from "node:net";

/**
 * A TCP server that accepts and never answers: a database (or any peer) that does not finish the handshake, for
 * the timeouts that need no real server behind them. Its sockets stay open until `close()`.
 */
export async function silentServer(): Promise<{ port: number; close: () => Promise<void> }> {
  const sockets = new Set<Socket>();
  const server = createServer((s) => {
    sockets.add(s);
    s.on("error", () => undefined);
  });
  await new Promise<void>((res) => server.listen(0, "127.0.0.1", () => res()));
  return {
    port: (server.address() as { port: number }).port,
    close: () => {
      sockets.forEach((s) => s.destroy());
      return new Promise<void>((res) => server.close(() => res()));
    },
  };
}
