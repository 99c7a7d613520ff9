import type { IncomingMessage } from "node:http";
import fc from "fast-check";
import { clientAddressKey, type TrustedProxyOptions } from "../../src/ratelimit/client-key";

/**
 * clientAddressKey keeps the last key per socket and reuses it while the socket's address and the
 * X-Forwarded-For header are the same strings. Whatever the sequence of requests over a few
 * connections (addresses and headers changing, repeated headers, garbage), every answer must be
 * the one a generator that has seen no request before gives for that request alone.
 */

const addresses = fc.constantFrom(undefined, "", "10.0.12.7", "::ffff:10.0.12.7", "130.176.1.20", "2001:DB8::1", "not-an-ip");
const entries = fc.constantFrom("203.0.113.9", " 198.51.100.5 ", "::ffff:1.2.3.4", "10.0.0.3", "", "garbage", "[2001:db8::2]");
const headers = fc.oneof(
  fc.constant(undefined),
  fc.array(entries, { maxLength: 4 }).map((e) => e.join(",")),
  fc.array(
    fc.array(entries, { maxLength: 2 }).map((e) => e.join(", ")),
    { minLength: 2, maxLength: 3 },
  ),
);
const options = fc.constantFrom<TrustedProxyOptions>(
  { hops: 0 },
  { hops: 1 },
  { hops: 2 },
  { cidrs: ["10.0.0.0/8", "130.176.0.0/16"] },
  { hops: 1, cidrs: ["10.0.0.0/8"] },
);

describe("clientAddressKey: the key kept per connection", () => {
  it("answers every request of any sequence over a few connections like a generator seeing it first", () => {
    fc.assert(
      fc.property(
        options,
        fc.array(fc.record({ conn: fc.integer({ min: 0, max: 2 }), address: addresses, header: headers }), { maxLength: 40 }),
        (opts, sequence) => {
          const key = clientAddressKey(opts);
          const sockets = [
            { remoteAddress: undefined as string | undefined },
            { remoteAddress: undefined },
            { remoteAddress: undefined },
          ];
          for (const { conn, address, header } of sequence) {
            // The same socket object, its address changed (a reused fake; a real one keeps it).
            sockets[conn].remoteAddress = address;
            const request = (socket: object) =>
              ({ socket, headers: header === undefined ? {} : { "x-forwarded-for": header } }) as unknown as IncomingMessage;
            const fresh = clientAddressKey(opts)(request({ remoteAddress: address }));
            expect(key(request(sockets[conn]))).toBe(fresh);
          }
        },
      ),
      { numRuns: 300 },
    );
  });

  it("a connection that changes its header gets the new client's key at once, and the old one back after", () => {
    const key = clientAddressKey({ hops: 1 });
    const socket = { remoteAddress: "10.0.12.7" };
    const request = (xff: string) => ({ socket, headers: { "x-forwarded-for": xff } }) as unknown as IncomingMessage;
    expect(key(request("203.0.113.9"))).toBe("203.0.113.9");
    expect(key(request("203.0.113.9"))).toBe("203.0.113.9");
    expect(key(request("198.51.100.5"))).toBe("198.51.100.5");
    expect(key(request("203.0.113.9"))).toBe("203.0.113.9");
  });
});
