import { request } from "node:http";
import type { AddressInfo } from "node:net";
import { createRuntime, type UaipRuntime } from "@uaip/runtime";
import { createService, loadServiceConfig, serviceCdnPaths, type UaipService } from "../../examples/service";
import { startBackends, type Backends } from "../../load/local-stack";
import { stackProfile } from "../../load/stack-profile";

/** The reference service in this process, on real Redis and PostgreSQL, with the local stack's env for one service. */
export interface RunningReference {
  backends: Backends;
  env: Record<string, string>;
  runtime: UaipRuntime;
  service: UaipService;
  port: number;
  stop(): Promise<void>;
}

export const LOCAL_PROFILE = stackProfile("local");

export async function startReferenceService(name: string, overrides: Record<string, string> = {}): Promise<RunningReference> {
  const backends = await startBackends(LOCAL_PROFILE);
  const env = [...backends.envs].find(([s]) => s.name === name)![1];
  const runtime = createRuntime({ config: loadServiceConfig({ ...env, ...overrides }), cdnPaths: serviceCdnPaths(name) });
  if (!(await runtime.ready(10_000))) throw new Error("Redis not ready for the reference service");
  const service = createService(runtime);
  await new Promise<void>((r) => service.server.listen(0, "127.0.0.1", () => r()));
  const port = (service.server.address() as AddressInfo).port;
  const stop = async () => {
    service.server.closeAllConnections();
    await new Promise((r) => service.server.close(r));
    await runtime.close();
    await backends.stop();
  };
  return { backends, env, runtime, service, port, stop };
}

export interface Answer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  text: string;
  /** The body parsed as JSON, or the text when it is not JSON. */
  body: any;
}

/** One HTTP request; a non-string body is sent as JSON. */
export function call(
  port: number,
  method: string,
  path: string,
  body?: unknown,
  headers: Record<string, string> = {},
): Promise<Answer> {
  const payload = body === undefined ? undefined : typeof body === "string" ? body : JSON.stringify(body);
  return new Promise((resolve, reject) => {
    const req = request(
      {
        host: "127.0.0.1",
        port,
        method,
        path,
        headers: { ...(payload !== undefined ? { "content-type": "application/json" } : {}), ...headers },
      },
      (res) => {
        let text = "";
        res
          .on("data", (d) => (text += d))
          .on("end", () => {
            let parsed: unknown = text;
            try {
              parsed = JSON.parse(text);
            } catch {
              /* not JSON */
            }
            resolve({ status: res.statusCode ?? 0, headers: res.headers, text, body: parsed });
          });
      },
    );
    req.on("error", reject);
    req.end(payload);
  });
}
