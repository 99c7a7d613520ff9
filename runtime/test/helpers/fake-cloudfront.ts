import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo, Socket } from "node:net";

export interface Received {
  distributionId: string;
  callerReference: string;
  paths: string[];
  quantity: number;
  at: number;
}

export type Reply = { status: number; code?: string } | "ok";

/** Plays CloudFront's CreateInvalidation REST endpoint; `script` decides each answer in order. */
export class FakeCloudFront {
  readonly received: Received[] = [];
  inFlight = 0;
  maxInFlight = 0;
  #server: Server;
  readonly #sockets = new Set<Socket>();
  #script: Reply[] = [];
  #delayMs = 0;

  constructor() {
    this.#server = createServer((req, res) => void this.#handle(req, res));
    this.#server.on("connection", (socket: Socket) => {
      this.#sockets.add(socket);
      socket.on("close", () => this.#sockets.delete(socket));
    });
  }

  async start(): Promise<string> {
    await new Promise<void>((r) => this.#server.listen(0, "127.0.0.1", () => r()));
    return `http://127.0.0.1:${(this.#server.address() as AddressInfo).port}`;
  }

  stop(): Promise<void> {
    return new Promise((r) => this.#server.close(() => r()));
  }

  /** Client connections still open (the SDK keeps them alive until its client is destroyed). */
  openConnections(): number {
    return this.#sockets.size;
  }

  script(replies: Reply[], delayMs = 0): void {
    this.#script = replies;
    this.#delayMs = delayMs;
  }

  async #handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    let body = "";
    for await (const chunk of req) body += chunk;
    const m = /^\/2020-05-31\/distribution\/([^/]+)\/invalidation$/.exec(req.url ?? "");
    if (req.method !== "POST" || !m) {
      res.writeHead(404).end();
      return;
    }
    this.inFlight++;
    this.maxInFlight = Math.max(this.maxInFlight, this.inFlight);
    const callerReference = /<CallerReference>([^<]*)<\/CallerReference>/.exec(body)?.[1] ?? "";
    const paths = [...body.matchAll(/<Path>([^<]*)<\/Path>/g)].map((x) => x[1]);
    const quantity = Number(/<Quantity>(\d+)<\/Quantity>/.exec(body)?.[1]);
    this.received.push({ distributionId: m[1], callerReference, paths, quantity, at: Date.now() });
    if (this.#delayMs) await new Promise((r) => setTimeout(r, this.#delayMs));
    this.inFlight--;
    const reply = this.#script.shift() ?? "ok";
    if (reply === "ok") {
      const id = `I${this.received.length}`;
      res.writeHead(201, {
        "content-type": "text/xml",
        location: `https://cloudfront.amazonaws.com/2020-05-31/distribution/${m[1]}/invalidation/${id}`,
      });
      res.end(
        `<?xml version="1.0"?><Invalidation xmlns="http://cloudfront.amazonaws.com/doc/2020-05-31/"><Id>${id}</Id><Status>InProgress</Status>` +
          `<CreateTime>2026-01-01T00:00:00Z</CreateTime><InvalidationBatch><Paths><Quantity>${paths.length}</Quantity><Items>` +
          paths.map((p) => `<Path>${p}</Path>`).join("") +
          `</Items></Paths><CallerReference>${callerReference}</CallerReference></InvalidationBatch></Invalidation>`,
      );
      return;
    }
    res.writeHead(reply.status, { "content-type": "text/xml" });
    res.end(
      `<?xml version="1.0"?><ErrorResponse xmlns="http://cloudfront.amazonaws.com/doc/2020-05-31/"><Error><Type>Sender</Type>` +
        `<Code>${reply.code ?? "ServiceUnavailable"}</Code><Message>scripted</Message></Error><RequestId>r-1</RequestId></ErrorResponse>`,
    );
  }
}
