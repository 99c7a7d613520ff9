/**
 * Edges of the compression rules (issue #22's mutation run on runtime/src/compression), for both ways a
 * response is compressed (the wrapped handler and `send(res, body)`): the threshold on both sides, the
 * Content-Type classes (event streams, JSON Lines), the no-transform directive among others, the Vary merge,
 * and the defaults, each compared with what node:zlib itself produces. Real node:http servers.
 */
import { createServer, request, type IncomingHttpHeaders, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { brotliCompressSync, brotliDecompressSync, constants, deflateSync, gunzipSync, gzipSync, inflateSync } from "node:zlib";
import fc from "fast-check";
import { CompressionOptionsError, ResponseCompressor, type CompressionConfig } from "../../src/compression";

type Style = "wrap" | "send";
interface Raw {
  headers: IncomingHttpHeaders;
  body: Buffer;
}

const servers: Server[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => new Promise((r) => s.close(r))));
});

/** A server answering `body` with `headers` set first, through the compressor in the given style. */
async function serve(config: CompressionConfig, style: Style, body: string | Buffer, headers: Record<string, string | string[]>) {
  const compressor = new ResponseCompressor(config);
  const answer = (res: ServerResponse, end: (b: string | Buffer) => void) => {
    for (const [k, v] of Object.entries(headers)) res.setHeader(k, v);
    end(body);
  };
  const server = createServer(
    style === "wrap"
      ? compressor.wrap((_req, res) => answer(res, (b) => res.end(b)))
      : (_req, res) => answer(res, (b) => compressor.send(res, b)),
  );
  servers.push(server);
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  return (server.address() as AddressInfo).port;
}

function get(port: number, headers: Record<string, string>): Promise<Raw> {
  return new Promise((resolve, reject) => {
    request({ host: "127.0.0.1", port, path: "/", headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on("data", (c: Buffer) => chunks.push(c));
      res.on("end", () => resolve({ headers: res.headers, body: Buffer.concat(chunks) }));
    })
      .on("error", reject)
      .end();
  });
}

function decode(raw: Raw): Buffer {
  const enc = raw.headers["content-encoding"];
  if (enc === "gzip") return gunzipSync(raw.body);
  if (enc === "br") return brotliDecompressSync(raw.body);
  if (enc === "deflate") return inflateSync(raw.body);
  return raw.body;
}

/** A compressible JSON body of exactly `bytes` bytes. */
function jsonOf(bytes: number): string {
  const body = JSON.stringify({ pad: "" });
  return JSON.stringify({ pad: "ab".repeat(bytes).slice(0, bytes - body.length) });
}

const JSON_TYPE = { "Content-Type": "application/json" };

describe.each<Style>(["wrap", "send"])("ResponseCompressor (%s) at its edges", (style) => {
  it("compresses a body of exactly threshold bytes, not one of threshold - 1; the default threshold is 1024", async () => {
    for (const [config, threshold] of [
      [{ threshold: 300 }, 300],
      [{}, 1024],
    ] as const) {
      for (const [size, encoded] of [
        [threshold - 1, false],
        [threshold, true],
      ] as const) {
        const body = jsonOf(size);
        expect(Buffer.byteLength(body)).toBe(size);
        const raw = await get(await serve(config, style, body, JSON_TYPE), { "Accept-Encoding": "gzip" });
        expect([size, raw.headers["content-encoding"]]).toEqual([size, encoded ? "gzip" : undefined]);
        expect(decode(raw).toString()).toBe(body);
      }
    }
  });

  it.each([
    ["application/x-ndjson", true],
    ["application/ndjson", true],
    ["application/jsonl", true],
    ["application/jsonlines; charset=utf-8", true],
    ["APPLICATION/X-NDJSON", true],
    ["application/jsonlinesx", false], // not JSON Lines, and unknown to mime-db
    ["text/event-stream", false],
    ["Text/Event-Stream; charset=utf-8", false],
    ["text/event-streamed", true], // another text/* type: compressible
    ["image/png", false],
  ])("Content-Type %j compressed: %s", async (type, compressed) => {
    const body = jsonOf(4096);
    const raw = await get(await serve({}, style, body, { "Content-Type": type }), { "Accept-Encoding": "gzip" });
    expect(raw.headers["content-encoding"]).toBe(compressed ? "gzip" : undefined);
    expect(raw.headers.vary).toBe("Accept-Encoding");
    expect(decode(raw).toString()).toBe(body);
  });

  it.each([
    ["no-transform", false],
    ["public, no-transform", false],
    ["no-transform,max-age=60", false],
    ["private,no-transform , max-age=0", false],
    ["NO-TRANSFORM", false],
    ["no-transformer", true],
    ["x-no-transform", true],
    ["max-age=60", true],
  ])("Cache-Control %j compressed: %s", async (cacheControl, compressed) => {
    const body = jsonOf(4096);
    const raw = await get(await serve({}, style, body, { ...JSON_TYPE, "Cache-Control": cacheControl }), {
      "Accept-Encoding": "gzip",
    });
    expect(raw.headers["content-encoding"]).toBe(compressed ? "gzip" : undefined);
  });

  it.each<[string | string[], string]>([
    ["Origin", "Origin, Accept-Encoding"],
    [["Origin", "Cookie"], "Origin, Cookie, Accept-Encoding"],
    ["accept-encoding", "accept-encoding"],
    ["Origin,Accept-Encoding", "Origin,Accept-Encoding"],
    ["*", "*"],
    ["X-Accept-Encoding", "X-Accept-Encoding, Accept-Encoding"],
    ["  ", "Accept-Encoding"],
  ])("a handler's Vary %j becomes %j: Accept-Encoding added once, never after *", async (vary, expected) => {
    const raw = await get(await serve({}, style, jsonOf(4096), { ...JSON_TYPE, Vary: vary }), { "Accept-Encoding": "gzip" });
    expect(raw.headers.vary).toBe(expected);
    expect(raw.headers["content-encoding"]).toBe("gzip");
  });

  it("a Vary listing * among others gets no Accept-Encoding (the wrapped path may shorten it to *)", async () => {
    const raw = await get(await serve({}, style, jsonOf(4096), { ...JSON_TYPE, Vary: "Origin, *" }), {
      "Accept-Encoding": "gzip",
    });
    expect(raw.headers.vary).toMatch(/\*/);
    expect(raw.headers.vary).not.toMatch(/accept-encoding/i);
  });
});

describe("ResponseCompressor.send: what it leaves alone, with bodies above the threshold", () => {
  it("an already-encoded body goes out as it is (not encoded twice)", async () => {
    const pre = gzipSync(jsonOf(8192), { level: 0 }); // level 0: stays above the threshold
    expect(pre.length).toBeGreaterThan(1024);
    const raw = await get(await serve({}, "send", pre, { ...JSON_TYPE, "Content-Encoding": "gzip" }), {
      "Accept-Encoding": "br, gzip",
    });
    expect(raw.headers["content-encoding"]).toBe("gzip");
    expect(raw.body.equals(pre)).toBe(true);
  });

  it("HEAD gets no encoding", async () => {
    const port = await serve({}, "send", jsonOf(8192), JSON_TYPE);
    const head = await new Promise<IncomingHttpHeaders>((resolve, reject) => {
      request({ host: "127.0.0.1", port, path: "/", method: "HEAD", headers: { "Accept-Encoding": "gzip" } }, (res) => {
        res.resume();
        res.on("end", () => resolve(res.headers));
      })
        .on("error", reject)
        .end();
    });
    expect(head["content-encoding"]).toBeUndefined();
  });

  it.each([
    ["application/x.text/event-stream+json", true], // JSON whose name contains the event-stream type
    [" text/event-stream", false], // leading whitespace is still an event stream
    [" application/x-ndjson", true],
    ["application/octet-stream; format=application/x-ndjson", false], // a binary stream, whatever its parameters say
  ])("Content-Type %j compressed: %s", async (type, compressed) => {
    const body = jsonOf(4096);
    const raw = await get(await serve({}, "send", body, { "Content-Type": type }), { "Accept-Encoding": "gzip" });
    expect(raw.headers["content-encoding"]).toBe(compressed ? "gzip" : undefined);
  });
});

describe("ResponseCompressor options", () => {
  it("a bad option is refused naming the class, the key and the value", () => {
    expect(() => new ResponseCompressor({ level: 10 })).toThrow(/^compression level: ResponseCompressor: level: .*got 10$/);
  });
});

describe("ResponseCompressor defaults and levels, against node:zlib", () => {
  const body = jsonOf(8192);

  it("send: gzip at the configured level (default 6) and deflate likewise, byte for byte", async () => {
    for (const level of [undefined, 1, 9]) {
      const config = level === undefined ? {} : { level };
      const expected = level ?? 6;
      const gz = await get(await serve(config, "send", body, JSON_TYPE), { "Accept-Encoding": "gzip" });
      expect(gz.body.equals(gzipSync(body, { level: expected }))).toBe(true);
      const df = await get(await serve(config, "send", body, JSON_TYPE), { "Accept-Encoding": "deflate" });
      expect(df.headers["content-encoding"]).toBe("deflate");
      expect(df.body.equals(deflateSync(body, { level: expected }))).toBe(true);
    }
  });

  it("send: brotli at the configured quality (default 4), byte for byte", async () => {
    for (const quality of [undefined, 0, 6]) {
      const config = quality === undefined ? {} : { brotliQuality: quality };
      const raw = await get(await serve(config, "send", body, JSON_TYPE), { "Accept-Encoding": "br" });
      const expected = brotliCompressSync(body, {
        params: {
          [constants.BROTLI_PARAM_QUALITY]: quality ?? 4,
          [constants.BROTLI_PARAM_SIZE_HINT]: Buffer.byteLength(body),
        },
      });
      expect(raw.headers["content-encoding"]).toBe("br");
      expect(raw.body.equals(expected)).toBe(true);
      expect(Number(raw.headers["content-length"])).toBe(expected.length);
    }
  });

  it("wrap: the brotli quality reaches the streaming compressor (quality 0 is larger than 6, same text)", async () => {
    // A body with repeats far apart: quality 0 does not find them, quality 6 does.
    const varied = JSON.stringify(Array.from({ length: 400 }, (_, i) => ({ id: i, name: `item-${(i * 7919) % 1000}` })));
    const sizes: number[] = [];
    for (const brotliQuality of [0, 6]) {
      const raw = await get(await serve({ brotliQuality }, "wrap", varied, JSON_TYPE), { "Accept-Encoding": "br" });
      expect(decode(raw).toString()).toBe(varied);
      sizes.push(raw.body.length);
    }
    expect(sizes[0]).toBeGreaterThan(sizes[1]);
  });

  it("wrap: gzip at the configured level", async () => {
    const sizes: number[] = [];
    for (const level of [1, 9]) {
      const raw = await get(await serve({ level }, "wrap", body, JSON_TYPE), { "Accept-Encoding": "gzip" });
      expect(decode(raw).toString()).toBe(body);
      sizes.push(raw.body.length);
    }
    expect(sizes).toEqual([gzipSync(body, { level: 1 }).length, gzipSync(body, { level: 9 }).length]);
  });
});

describe("ResponseCompressor.compress(data) at its edges", () => {
  it("compresses data of threshold bytes and more, returns smaller data as it is, for any threshold", async () => {
    await fc.assert(
      // Sizes near the threshold (both sides of it) and anywhere else.
      fc.asyncProperty(
        fc.integer({ min: 0, max: 2048 }),
        fc.oneof(fc.integer({ min: -2, max: 2 }), fc.integer({ min: -2048, max: 2048 })),
        async (threshold, offset) => {
          const size = Math.max(0, threshold + offset);
          const c = new ResponseCompressor({ threshold });
          const data = Buffer.alloc(size, 97);
          const out = await c.compress(data);
          if (size >= threshold) expect(out.equals(gzipSync(data, { level: 6 }))).toBe(true);
          else expect(out).toBe(data);
        },
      ),
      { numRuns: 60 },
    );
  });

  it("gzips at the configured level", async () => {
    const data = Buffer.from(jsonOf(8192));
    for (const level of [1, 9]) {
      const out = await new ResponseCompressor({ level, threshold: 0 }).compress(data);
      expect(out.equals(gzipSync(data, { level }))).toBe(true);
    }
  });

  it("level 0 returns the bytes as they are; a string is its UTF-8 bytes", async () => {
    const c = new ResponseCompressor({ level: 0, threshold: 0 });
    expect((await c.compress("é".repeat(2000))).equals(Buffer.from("é".repeat(2000)))).toBe(true);
  });

  it("the filter applies only when a request is given", async () => {
    const c = new ResponseCompressor({ threshold: 0, filter: () => false });
    expect(gunzipSync(await c.compress("hello")).toString()).toBe("hello");
    expect((await c.compress("hello", {} as never)).toString()).toBe("hello");
  });

  it("a filter that allows the request compresses", async () => {
    const c = new ResponseCompressor({ threshold: 0, filter: () => true });
    expect(gunzipSync(await c.compress("hello", {} as never)).toString()).toBe("hello");
  });

  it.each([
    ["a BigInt", { n: 1n }, "BigInt"],
    [
      "a cycle",
      (() => {
        const o: Record<string, unknown> = {};
        o.self = o;
        return o;
      })(),
      "circular",
    ],
    ["undefined", undefined, "has no JSON form"],
    ["a function", () => 1, "has no JSON form"],
  ])("refuses %s as data with CompressionOptionsError on key data", async (_what, data, text) => {
    const c = new ResponseCompressor({ threshold: 0 });
    const err = await c.compress(data).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(CompressionOptionsError);
    expect((err as CompressionOptionsError).key).toBe("data");
    expect((err as Error).message).toContain(text);
    expect((err as Error).message).toContain("pass a string, a Buffer or a JSON-serialisable value");
  });
});
