/**
 * policy/rules/match.ts, the type/kind/tag matching every rule goes through, on both sides of each rule (issue #22).
 */
import type { PlannedResource } from "../../policy/rules";
import {
  UNKNOWN,
  canonicalType,
  environmentOf,
  isKind,
  isProd,
  isType,
  label,
  recordsIn,
  resolveRef,
  stringsIn,
  truthy,
} from "../../policy/rules/match";

const r = (type: string, name: string, props: Record<string, unknown> = {}): PlannedResource => ({
  type,
  name,
  urn: `urn:${name}`,
  props,
});

describe("type and kind matching", () => {
  it("strips S3's V2 suffix only in the s3 module, and only at the end", () => {
    expect(canonicalType("aws:s3/bucketV2:BucketV2")).toBe("aws:s3/bucket:Bucket");
    expect(canonicalType("aws:ec2/instanceV2:InstanceV2")).toBe("aws:ec2/instanceV2:InstanceV2");
    expect(canonicalType("aws:s3/bucketV2Policy:BucketV2Policy")).toBe("aws:s3/bucketV2Policy:BucketV2Policy");
  });

  it("leaves tokens that are not aws:<module>/<name>:<Type> as they are", () => {
    for (const type of [
      "kubernetes:apps/v1:Deployment",
      "aws:s3",
      "aws:/x:Y",
      "random:index/randomPassword:RandomPassword",
      "xaws:alb/listener:Listener",
    ])
      expect(canonicalType(type)).toBe(type);
  });

  it("isType matches any of the given types after canonicalising, and nothing else", () => {
    const listener = r("aws:alb/listener:Listener", "l");
    expect(isType(listener, "aws:lb/listener:Listener")).toBe(true);
    expect(isType(listener, "aws:lb/targetGroup:TargetGroup", "aws:lb/listener:Listener")).toBe(true);
    expect(isType(listener, "aws:alb/listener:Listener")).toBe(false); // callers name the canonical spelling
    expect(isType(listener)).toBe(false);
  });

  it("isKind ignores the API version but not the group or the kind", () => {
    expect(isKind(r("kubernetes:apps/v1:Deployment", "d"), "apps:Deployment")).toBe(true);
    expect(isKind(r("kubernetes:apps/v1beta2:Deployment", "d"), "apps:StatefulSet", "apps:Deployment")).toBe(true);
    expect(isKind(r("kubernetes:extensions/v1beta1:Deployment", "d"), "apps:Deployment")).toBe(false);
    expect(isKind(r("kubernetes:apps/v1:DeploymentList", "d"), "apps:Deployment")).toBe(false);
    expect(isKind(r("aws:apps/v1:Deployment", "d"), "apps:Deployment")).toBe(false);
    expect(isKind(r("kubernetes:apps:Deployment", "d"), "apps:Deployment")).toBe(false);
  });
});

describe("tags, flags and references", () => {
  it("environmentOf reads a string environment tag only", () => {
    expect(environmentOf(r("t", "a", { tags: { environment: "prod" } }))).toBe("prod");
    for (const tags of [undefined, null, "environment=prod", { environment: 1 }, {}])
      expect(environmentOf(r("t", "a", { tags }))).toBeUndefined();
  });

  it("isProd is prod or production, exactly", () => {
    expect([isProd("prod"), isProd("production")]).toEqual([true, true]);
    for (const env of [undefined, "Prod", "preprod", "staging", ""]) expect(isProd(env)).toBe(false);
  });

  it('truthy is true or "true" only', () => {
    expect([truthy(true), truthy("true")]).toEqual([true, true]);
    for (const v of [false, "false", "TRUE", 1, "1", undefined, null, {}]) expect(truthy(v)).toBe(false);
  });

  it("label names the type and the name", () => {
    expect(label(r("aws:ec2/vpc:Vpc", "main"))).toBe("aws:ec2/vpc:Vpc main");
  });

  it("resolveRef follows a known reference by the prop, and an unknown one only to a single candidate", () => {
    const a = r("g", "a", { name: "ga" });
    const b = r("g", "b", { name: "gb" });
    expect(resolveRef("gb", [a, b], "name")).toBe(b);
    expect(resolveRef("gc", [a, b], "name")).toBeUndefined();
    expect(resolveRef(UNKNOWN, [a], "name")).toBe(a);
    expect(resolveRef(UNKNOWN, [a, b], "name")).toBeUndefined();
    expect(resolveRef(UNKNOWN, [], "name")).toBeUndefined();
  });
});

describe("lists read from props", () => {
  it("recordsIn keeps the objects of a list, in order, and reads anything else as an empty list", () => {
    const a = { name: "a" };
    const b = {};
    expect(recordsIn([a, null, 1, "x", [a], b, undefined, true])).toEqual([a, b]);
    expect(recordsIn([a, null, b])[1]).toBe(b);
    for (const notList of [undefined, null, 1, "ab", { 0: a, length: 1 }, a]) expect(recordsIn(notList)).toEqual([]);
  });

  it("stringsIn keeps the strings of a list, the empty one too, and reads anything else as an empty list", () => {
    expect(stringsIn(["0.0.0.0/0", null, 1, ["::/0"], "", { cidr: "x" }, "::/0"])).toEqual(["0.0.0.0/0", "", "::/0"]);
    for (const notList of [undefined, null, "0.0.0.0/0", { 0: "x" }]) expect(stringsIn(notList)).toEqual([]);
  });
});
