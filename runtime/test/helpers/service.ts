import type { AddressInfo } from "node:net";
import type { UaipRuntime } from "@uaip/runtime";
import { createService, type UaipService } from "../../../examples/service";

/** The reference service over a runtime, on a free loopback port. */
export interface LoopbackService {
  service: UaipService;
  port: number;
  /** `http://127.0.0.1:<port>` */
  base: string;
  /** Stops the service, then closes the runtime. */
  close(): Promise<void>;
}

export async function serveOnLoopback(runtime: UaipRuntime): Promise<LoopbackService> {
  const service = createService(runtime);
  await new Promise<void>((r) => service.server.listen(0, "127.0.0.1", () => r()));
  const port = (service.server.address() as AddressInfo).port;
  return {
    service,
    port,
    base: `http://127.0.0.1:${port}`,
    close: async () => {
      // Node's global agent keeps sockets alive, and the service's keep-alive is 65 s: cut them.
      service.server.closeAllConnections();
      await new Promise((r) => service.server.close(r));
      await runtime.close();
    },
  };
}
