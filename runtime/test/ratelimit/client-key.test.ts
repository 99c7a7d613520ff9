import { clientAddressKey, normalizeAddress } from "../../src/ratelimit/client-key";
import { ALB, EDGE, VIEWER, forwardedRequest as req } from "../helpers/ratelimit";

describe("clientAddressKey: which X-Forwarded-For entry is the client", () => {
  it.each([
    // hops, socket, X-Forwarded-For, expected key
    [0, ALB, `${VIEWER}, ${EDGE}`, ALB],
    [2, ALB, `${VIEWER}, ${EDGE}`, VIEWER],
    [2, ALB, `6.6.6.6, ${VIEWER}, ${EDGE}`, VIEWER], // the viewer's own (spoofed) header is left of what CloudFront appends
    [2, ALB, `1.1.1.1, 2.2.2.2, ${VIEWER}, ${EDGE}`, VIEWER],
    [1, ALB, `${VIEWER}`, VIEWER], // ALB only
    [1, ALB, `6.6.6.6, ${VIEWER}`, VIEWER],
    [2, ALB, undefined, ALB], // no header: nothing to trust
    [2, ALB, "", ALB],
    [2, ALB, `${EDGE}`, EDGE], // fewer entries than hops: the leftmost one
    [2, ALB, `not-an-ip, ${EDGE}`, ALB], // garbage where the client should be never gets its own bucket
    [1, `::ffff:${ALB}`, `::ffff:${VIEWER}`, VIEWER], // IPv4-mapped addresses are one client, not two
    [1, ALB, "2001:DB8::1", "2001:db8::1"],
    [1, ALB, ["9.9.9.9", VIEWER], VIEWER], // repeated headers join in order
  ])("hops %d, socket %s, X-Forwarded-For %j -> %s", (hops, socket, xff, expected) => {
    expect(clientAddressKey({ hops })(req(socket, xff))).toBe(expected);
  });

  it("a client sending X-Forwarded-For straight to a pod cannot pick its bucket beyond the trusted hops", () => {
    const key = clientAddressKey({ hops: 1 });
    // Straight to the pod: with one trusted hop the attacker controls only the entry at that hop;
    // rotating every value left of it changes nothing.
    const a = key(req("198.51.100.5", "1.1.1.1, 2.2.2.2"));
    const b = key(req("198.51.100.5", "3.3.3.3, 2.2.2.2"));
    expect(a).toBe(b);
  });

  describe("with trusted proxy CIDRs", () => {
    const key = clientAddressKey({ cidrs: ["10.0.0.0/16", "130.176.0.0/16"] });

    it("skips trusted proxies from the right and stops at the first other address", () => {
      expect(key(req(ALB, `6.6.6.6, ${VIEWER}, ${EDGE}`))).toBe(VIEWER);
      expect(key(req(ALB, `${VIEWER}, 10.0.3.3, ${EDGE}`))).toBe(VIEWER); // an internal hop inside the CIDRs is skipped too
    });

    it("ignores X-Forwarded-For on a connection that did not come from a trusted proxy", () => {
      expect(key(req("198.51.100.5", `${VIEWER}`))).toBe("198.51.100.5");
    });

    it("caps the skipped proxies at hops when both are given", () => {
      expect(clientAddressKey({ hops: 1, cidrs: ["10.0.0.0/8", "130.176.0.0/16"] })(req(ALB, `${VIEWER}, ${EDGE}`))).toBe(EDGE);
    });

    it("refuses a malformed CIDR by position", () => {
      expect(() => clientAddressKey({ cidrs: ["10.0.0.0/16", "10.0.0.0/40"] })).toThrow(
        expect.objectContaining({ code: "UAIP_RATELIMIT_OPTIONS_INVALID", key: "trustedProxy.cidrs[1]" }),
      );
    });
  });

  it("refuses a negative or fractional hop count", () => {
    expect(() => clientAddressKey({ hops: -1 })).toThrow(expect.objectContaining({ key: "trustedProxy.hops" }));
    expect(() => clientAddressKey({ hops: 1.5 })).toThrow(expect.objectContaining({ key: "trustedProxy.hops" }));
  });

  it("normalizeAddress", () => {
    expect(normalizeAddress(" [2001:db8::2] ")).toBe("2001:db8::2");
    expect(normalizeAddress("::ffff:127.0.0.1")).toBe("127.0.0.1");
    expect(normalizeAddress("127.0.0.1:8080")).toBeUndefined();
  });
});
