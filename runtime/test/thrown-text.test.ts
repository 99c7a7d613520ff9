/**
 * thrownText, the one way a message names a thrown value (issue #22: a CloudFront client rejecting with null
 * lost the batch's paths, and a purger throwing an object without a prototype made invalidate() throw).
 */
import fc from "fast-check";
import { thrownText } from "../src/errors";
import { showValue } from "../src/options";

describe("thrownText", () => {
  it("never throws, whatever was thrown (property, objects without a prototype included)", () => {
    const odd = fc.constantFrom<unknown>(
      Object.create(null),
      Object.assign(Object.create(null), { message: 5 }),
      Symbol("s"),
      10n,
    );
    fc.assert(fc.property(fc.oneof(fc.anything(), odd), (value) => expect(typeof thrownText(value)).toBe("string")));
  });

  it("an Error is `Name: message`, an object's string message is that message, anything else is the value as written", () => {
    const named = Object.assign(new Error("no such distribution"), { name: "NoSuchDistribution" });
    expect(thrownText(named)).toBe("NoSuchDistribution: no such distribution");
    expect(thrownText(new TypeError("x"))).toBe("TypeError: x");
    expect(thrownText({ message: "from a plain object" })).toBe("from a plain object");
    expect(thrownText(Object.assign(Object.create(null), { message: "no prototype" }))).toBe("no prototype");
    for (const value of [null, undefined, "text", 42, { message: 7 }, { code: "odd" }, Object.create(null)]) {
      expect(thrownText(value)).toBe(showValue(value));
    }
  });
});
