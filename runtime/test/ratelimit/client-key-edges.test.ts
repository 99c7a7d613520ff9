/** clientAddressKey and normalizeAddress at their edges (issue #22): hop counts, CIDR widths, blank entries, IPv6. */
import { clientAddressKey, normalizeAddress } from "../../src/ratelimit/client-key";
import { ALB, EDGE, VIEWER, forwardedRequest as req } from "../helpers/ratelimit";

describe("clientAddressKey and normalizeAddress at their edges", () => {
  it("with CIDRs and no hop count, skips every trusted proxy however many there are", () => {
    const key = clientAddressKey({ cidrs: ["10.0.0.0/8"] });
    const proxies = Array.from({ length: 20 }, (_, i) => `10.0.${i}.1`);
    expect(key(req(ALB, [VIEWER, ...proxies].join(", ")))).toBe(VIEWER);
    // Only trusted proxies all the way: the leftmost entry is the best guess of the client.
    expect(key(req(ALB, proxies.join(", ")))).toBe(proxies[0]);
  });

  it("with CIDRs, a socket without an address is keyed as unknown, X-Forwarded-For ignored", () => {
    expect(clientAddressKey({ cidrs: ["10.0.0.0/8"] })(req(undefined, VIEWER))).toBe("unknown");
    expect(clientAddressKey({ hops: 1 })(req(undefined))).toBe("unknown");
  });

  it("an empty entry where a hop should be falls back to the socket address", () => {
    expect(clientAddressKey({ hops: 2 })(req(ALB, `${VIEWER}, , ${EDGE}`))).toBe(ALB);
    expect(clientAddressKey({ hops: 1 })(req(ALB, `${VIEWER}, `))).toBe(ALB);
  });

  it("skips exactly `hops` entries: one fewer or one more picks another address", () => {
    const chain = ["1.1.1.1", "2.2.2.2", "3.3.3.3", "4.4.4.4"];
    for (let hops = 1; hops <= chain.length; hops++)
      expect(clientAddressKey({ hops })(req(ALB, chain.join(", ")))).toBe(chain[chain.length - hops]);
  });

  it("IPv6 proxies are matched against IPv6 CIDRs", () => {
    const key = clientAddressKey({ cidrs: ["fd00::/8"] });
    expect(key(req("fd00::1", `${VIEWER}, fd12::7`))).toBe(VIEWER);
    expect(key(req("2001:db8::1", VIEWER))).toBe("2001:db8::1");
  });

  it("accepts prefixes up to the family's width and refuses one bit more, or none", () => {
    for (const ok of ["10.0.0.1/32", "10.0.0.0/0", " 10.0.0.0/8 ", "fd00::1/128"])
      expect(() => clientAddressKey({ cidrs: [ok] })).not.toThrow();
    for (const bad of ["10.0.0.1/33", "fd00::1/129", "10.0.0.0", "10.0.0.0/", "10.0.0.0/0008", "10.0.0/8", "example/8"])
      expect(() => clientAddressKey({ cidrs: [bad] })).toThrow(expect.objectContaining({ key: "trustedProxy.cidrs[0]" }));
  });

  it("blank CIDR entries are ignored, not refused", () => {
    expect(clientAddressKey({ cidrs: ["", "  "] })(req(ALB, VIEWER))).toBe(ALB); // no CIDRs and no hops: socket
  });

  it("normalizeAddress: empty or absent is no address; a non-string is refused by name; case and mapping are folded", () => {
    expect(normalizeAddress(undefined)).toBeUndefined();
    expect(normalizeAddress("")).toBeUndefined();
    expect(normalizeAddress("   ")).toBeUndefined();
    expect(() => normalizeAddress(42 as unknown as string)).toThrow(
      expect.objectContaining({ code: "UAIP_RATELIMIT_OPTIONS_INVALID" }),
    );
    expect(normalizeAddress("::FFFF:10.1.2.3")).toBe("10.1.2.3");
    expect(normalizeAddress("::ffff:10.1.2")).toBe(undefined);
    expect(normalizeAddress("x::ffff:10.1.2.3")).toBeUndefined();
    expect(normalizeAddress("[FD00::A]:443")).toBe("fd00::a");
    expect(normalizeAddress("FD00::A")).toBe("fd00::a");
    expect(normalizeAddress("[::1")).toBeUndefined();
  });
});
