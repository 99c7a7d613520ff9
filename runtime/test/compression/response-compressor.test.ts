import {
  createServer,
  request,
  type IncomingHttpHeaders,
  type IncomingMessage,
  type Server,
  type ServerResponse,
} from "node:http";
import type { AddressInfo } from "node:net";
import { brotliDecompressSync, gunzipSync, gzipSync, inflateSync } from "node:zlib";
import { CompressionOptionsError, ResponseCompressor, type CompressionConfig } from "../../src/compression";

interface Raw {
  status: number;
  headers: IncomingHttpHeaders;
  body: Buffer;
}

const servers: Server[] = [];

/**
 * How a handler's answer gets compressed: the wrapped handler, the Express-style middleware, or
 * `send(res, body)` for a body built in memory. `end(body)` is the handler's last step in each.
 */
type Style = "wrap" | "middleware" | "send";
type End = (body: string | Buffer) => void;
type Handler = (req: IncomingMessage, res: ServerResponse, end: End) => void;

async function serve(config: CompressionConfig, handler: Handler, style: Style = "wrap"): Promise<number> {
  const compressor = new ResponseCompressor(config);
  const mw = compressor.middleware();
  const plain = (req: IncomingMessage, res: ServerResponse) => handler(req, res, (body) => res.end(body));
  const server = createServer(
    style === "wrap"
      ? compressor.wrap(plain)
      : style === "middleware"
        ? (req, res) => mw(req, res, () => plain(req, res))
        : (req, res) => handler(req, res, (body) => compressor.send(res, body)),
  );
  servers.push(server);
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  return (server.address() as AddressInfo).port;
}

function get(
  port: number,
  headers: Record<string, string> = {},
  method = "GET",
  onFirstData?: (received: number) => void,
): Promise<Raw> {
  return new Promise((resolve, reject) => {
    const req = request({ host: "127.0.0.1", port, path: "/", method, headers }, (res) => {
      const chunks: Buffer[] = [];
      let received = 0;
      res.on("data", (c: Buffer) => {
        chunks.push(c);
        received += c.length;
        onFirstData?.(received);
      });
      res.on("end", () => resolve({ status: res.statusCode!, headers: res.headers, body: Buffer.concat(chunks) }));
    });
    req.on("error", reject);
    req.end();
  });
}

function decode(raw: Raw): string {
  const enc = raw.headers["content-encoding"];
  if (enc === "gzip") return gunzipSync(raw.body).toString();
  if (enc === "br") return brotliDecompressSync(raw.body).toString();
  if (enc === "deflate") return inflateSync(raw.body).toString();
  return raw.body.toString();
}

const BIG_JSON = JSON.stringify({
  items: Array.from({ length: 200 }, (_, i) => ({ id: i, name: `item-${i}`, tags: ["a", "b", "c"] })),
});

function sendJson(body: string, extra: Record<string, string> = {}): Handler {
  return (_req, res, end) => {
    res.setHeader("Content-Type", "application/json");
    for (const [k, v] of Object.entries(extra)) res.setHeader(k, v);
    end(body);
  };
}

afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => new Promise((r) => s.close(r))));
});

// The rules are the same whether the middleware wraps the response or send() answers with a body in memory.
describe.each<Style>(["wrap", "send"])("ResponseCompressor (%s): Accept-Encoding negotiation (q-values)", (style) => {
  it.each([
    ["gzip", "gzip"],
    ["br", "br"],
    ["gzip, br", "br"],
    ["gzip;q=1, br;q=0.5", "gzip"],
    ["br;q=0, gzip", "gzip"],
    ["br;q=0, *", "gzip"],
    ["*", "br"],
    ["deflate", "deflate"],
    ["identity;q=0, gzip", "gzip"],
    ["gzip;q=0, br;q=0", undefined],
    ["*;q=0, identity", undefined],
    ["identity", undefined],
    ["", undefined],
  ])("Accept-Encoding %j -> %s, Vary: Accept-Encoding, body intact", async (accept, expected) => {
    const port = await serve({}, sendJson(BIG_JSON), style);
    const raw = await get(port, { "Accept-Encoding": accept });
    expect(raw.status).toBe(200);
    expect(raw.headers["content-encoding"]).toBe(expected);
    expect(raw.headers.vary).toMatch(/Accept-Encoding/);
    expect(decode(raw)).toBe(BIG_JSON);
    if (expected) expect(raw.body.length).toBeLessThan(BIG_JSON.length / 3);
  });

  it("no Accept-Encoding header: identity (nothing is assumed), still Vary", async () => {
    const port = await serve({}, sendJson(BIG_JSON), style);
    const raw = await get(port);
    expect(raw.headers["content-encoding"]).toBeUndefined();
    expect(raw.headers.vary).toBe("Accept-Encoding");
    expect(raw.body.toString()).toBe(BIG_JSON);
  });

  it("works as Express-style middleware too, and keeps a handler's own Vary", async () => {
    const port = await serve({}, sendJson(BIG_JSON, { Vary: "Origin" }), "middleware");
    const raw = await get(port, { "Accept-Encoding": "gzip" });
    expect(raw.headers["content-encoding"]).toBe("gzip");
    expect(raw.headers.vary).toBe("Origin, Accept-Encoding");
  });
});

describe.each<Style>(["wrap", "send"])("ResponseCompressor (%s): what is left alone", (style) => {
  it("a body below the threshold goes out as is, with Vary", async () => {
    const small = JSON.stringify({ ok: true, pad: "x".repeat(100) });
    const port = await serve({ threshold: 1024 }, sendJson(small), style);
    const raw = await get(port, { "Accept-Encoding": "gzip, br" });
    expect(raw.headers["content-encoding"]).toBeUndefined();
    expect(raw.headers.vary).toBe("Accept-Encoding");
    expect(raw.body.toString()).toBe(small);
  });

  it("the threshold is configurable: the same body is compressed with threshold 0", async () => {
    const small = JSON.stringify({ ok: true, pad: "x".repeat(100) });
    const port = await serve({ threshold: 0 }, sendJson(small), style);
    const raw = await get(port, { "Accept-Encoding": "gzip" });
    expect(raw.headers["content-encoding"]).toBe("gzip");
    expect(decode(raw)).toBe(small);
  });

  it("Cache-Control: no-transform is honoured (identity), still Vary", async () => {
    const port = await serve({}, sendJson(BIG_JSON, { "Cache-Control": "public, no-transform" }), style);
    const raw = await get(port, { "Accept-Encoding": "gzip, br" });
    expect(raw.headers["content-encoding"]).toBeUndefined();
    expect(raw.headers.vary).toBe("Accept-Encoding");
    expect(raw.body.toString()).toBe(BIG_JSON);
  });

  it("an already-encoded body is not encoded twice", async () => {
    const pre = gzipSync(BIG_JSON);
    const port = await serve(
      {},
      (_req, res, end) => {
        res.setHeader("Content-Type", "application/json");
        res.setHeader("Content-Encoding", "gzip");
        end(pre);
      },
      style,
    );
    const raw = await get(port, { "Accept-Encoding": "br, gzip" });
    expect(raw.headers["content-encoding"]).toBe("gzip");
    expect(raw.body.equals(pre)).toBe(true);
  });

  it("filter(req) returning false leaves the response alone", async () => {
    const port = await serve({ filter: (req) => !req.headers["x-no-compress"] }, sendJson(BIG_JSON), style);
    expect((await get(port, { "Accept-Encoding": "gzip", "X-No-Compress": "1" })).headers["content-encoding"]).toBeUndefined();
    expect((await get(port, { "Accept-Encoding": "gzip" })).headers["content-encoding"]).toBe("gzip");
  });

  it("incompressible types (image/png) are left alone", async () => {
    const port = await serve(
      {},
      (_req, res, end) => {
        res.setHeader("Content-Type", "image/png");
        end(Buffer.alloc(4096, 7));
      },
      style,
    );
    expect((await get(port, { "Accept-Encoding": "gzip" })).headers["content-encoding"]).toBeUndefined();
  });

  it("level 0 turns compression off", async () => {
    const port = await serve({ level: 0 }, sendJson(BIG_JSON), style);
    expect((await get(port, { "Accept-Encoding": "gzip, br" })).headers["content-encoding"]).toBeUndefined();
  });

  it("HEAD gets no body and no encoding", async () => {
    const port = await serve({}, sendJson(BIG_JSON), style);
    const raw = await get(port, { "Accept-Encoding": "gzip" }, "HEAD");
    expect(raw.headers["content-encoding"]).toBeUndefined();
    expect(raw.body.length).toBe(0);
  });
});

describe("ResponseCompressor.send(res, body)", () => {
  it("sets Content-Length to the compressed size and counts the threshold in bytes, not characters", async () => {
    const port = await serve({ threshold: 1000 }, sendJson(BIG_JSON), "send");
    const raw = await get(port, { "Accept-Encoding": "gzip" });
    expect(Number(raw.headers["content-length"])).toBe(raw.body.length);
    // 600 characters of 2 bytes each: 1200 bytes, over the threshold.
    const wide = "é".repeat(600);
    const widePort = await serve({ threshold: 1000 }, sendJson(wide), "send");
    const compressed = await get(widePort, { "Accept-Encoding": "gzip" });
    expect(compressed.headers["content-encoding"]).toBe("gzip");
    expect(decode(compressed)).toBe(wide);
  });

  it("a client gone before compression finished costs nothing: no write, no error, the server keeps answering", async () => {
    let answered = 0;
    const port = await serve(
      {},
      (req, res, end) => {
        res.setHeader("Content-Type", "application/json");
        if (req.headers["x-leave"]) req.socket.destroy();
        end(BIG_JSON);
        answered++;
      },
      "send",
    );
    await expect(get(port, { "Accept-Encoding": "br", "X-Leave": "1" })).rejects.toThrow();
    const raw = await get(port, { "Accept-Encoding": "br" });
    expect(decode(raw)).toBe(BIG_JSON);
    expect(answered).toBe(2);
  });
});

describe("ResponseCompressor: streaming", () => {
  it("a streamed body is compressed as it streams: the client gets data before the handler ends", async () => {
    let finish!: () => void;
    const released = new Promise<void>((r) => (finish = r));
    const chunk = (i: number) =>
      JSON.stringify(Array.from({ length: 400 }, (_, j) => ({ i, j, r: Math.sin(i * 1000 + j) }))) + "\n";
    const port = await serve({}, (_req, res) => {
      res.setHeader("Content-Type", "application/x-ndjson");
      for (let i = 0; i < 8; i++) res.write(chunk(i));
      void released.then(() => res.end(chunk(8)));
    });
    let sawDataBeforeEnd = false;
    const raw = await get(port, { "Accept-Encoding": "gzip" }, "GET", () => {
      if (!sawDataBeforeEnd) {
        sawDataBeforeEnd = true;
        finish();
      }
    });
    expect(sawDataBeforeEnd).toBe(true);
    expect(raw.headers["content-encoding"]).toBe("gzip");
    expect(raw.headers["content-length"]).toBeUndefined();
    expect(raw.headers["transfer-encoding"]).toBe("chunked");
    expect(decode(raw)).toBe(Array.from({ length: 9 }, (_, i) => chunk(i)).join(""));
  });

  it("an event stream is never compressed: each event reaches the client as it is written", async () => {
    let next!: () => void;
    const port = await serve({}, (_req, res) => {
      res.writeHead(200, { "Content-Type": "text/event-stream", "Cache-Control": "no-cache" });
      res.write(`data: ${"x".repeat(2000)}\n\n`);
      next = () => res.end("data: bye\n\n");
    });
    const raw = await get(port, { "Accept-Encoding": "gzip, br" }, "GET", (received) => {
      if (received >= 2000) next();
    });
    expect(raw.headers["content-encoding"]).toBeUndefined();
    expect(raw.headers.vary).toBe("Accept-Encoding");
    expect(raw.body.toString()).toBe(`data: ${"x".repeat(2000)}\n\ndata: bye\n\n`);
  });
});

describe("ResponseCompressor.compress(data)", () => {
  it("gzips data at or above the threshold and returns smaller data unchanged", async () => {
    const c = new ResponseCompressor({ level: 6, threshold: 1024 });
    const big = await c.compress(BIG_JSON);
    expect(gunzipSync(big).toString()).toBe(BIG_JSON);
    const small = Buffer.from("tiny");
    expect(await c.compress(small)).toBe(small);
    const obj = { a: "y".repeat(2000) };
    expect(JSON.parse(gunzipSync(await c.compress(obj)).toString())).toEqual(obj);
  });

  it("follows filter(req) when a request is given", async () => {
    const c = new ResponseCompressor({ filter: () => false });
    const out = await c.compress(BIG_JSON, {} as IncomingMessage);
    expect(out.toString()).toBe(BIG_JSON);
  });
});

describe("ResponseCompressor options", () => {
  it.each([
    [{ level: 10 }, "level"],
    [{ threshold: -1 }, "threshold"],
    [{ brotliQuality: 11 }, "brotliQuality"],
    [{ filter: "yes" as unknown as () => boolean }, "filter"],
  ])("refuses %j by name", (config, key) => {
    expect(() => new ResponseCompressor(config)).toThrow(CompressionOptionsError);
    expect(() => new ResponseCompressor(config)).toThrow(new RegExp(`compression ${key}:`));
  });
});
