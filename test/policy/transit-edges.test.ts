/**
 * Encryption-in-transit rules (policy/rules/encryption-in-transit.ts) at their edges, each condition alone
 * (issue #22): which spellings of a protocol, policy or engine pass, which are caught, and what the message names.
 */
import type { PlannedResource } from "../../policy/rules";
import {
  albListenerTls,
  cloudfrontTls,
  elasticacheInTransit,
  rdsForceSsl,
  s3TlsOnly,
} from "../../policy/rules/encryption-in-transit";
import { UNKNOWN } from "../../policy/rules/match";

const r = (type: string, name: string, props: Record<string, unknown>): PlannedResource => ({
  type,
  name,
  urn: `urn:pulumi:t::uaip::${type}::${name}`,
  props,
});

describe("elasticache-in-transit-encrypted", () => {
  const group = (props: Record<string, unknown>) => r("aws:elasticache/replicationGroup:ReplicationGroup", "c", props);

  it("enabled with mode required or unset passes (unset is required on AWS); preferred alone is caught", () => {
    expect(elasticacheInTransit.check(group({ transitEncryptionEnabled: true }))).toEqual([]);
    expect(elasticacheInTransit.check(group({ transitEncryptionEnabled: "true", transitEncryptionMode: "required" }))).toEqual(
      [],
    );
    expect(elasticacheInTransit.check(group({ transitEncryptionEnabled: true, transitEncryptionMode: "preferred" }))).toEqual([
      expect.stringContaining('"preferred"'),
    ]);
  });

  it("names the value as written", () => {
    expect(elasticacheInTransit.check(group({ transitEncryptionEnabled: false }))).toEqual([
      "transitEncryptionEnabled is false; set it to true",
    ]);
    expect(elasticacheInTransit.check(group({}))).toEqual(["transitEncryptionEnabled is unset; set it to true"]);
  });

  it("other resource types are not its business", () => {
    expect(elasticacheInTransit.check(r("aws:elasticache/cluster:Cluster", "c", {}))).toEqual([]);
  });
});

describe("rds-force-ssl", () => {
  const group = (value: string | undefined, name = "g") =>
    r("aws:rds/parameterGroup:ParameterGroup", `pg-${name}`, {
      name,
      parameters: value === undefined ? [{ name: "other", value: "1" }] : [{ name: "rds.force_ssl", value }],
    });
  const db = (props: Record<string, unknown>) =>
    r("aws:rds/instance:Instance", "db", { engine: "postgres", parameterGroupName: "g", ...props });
  const messages = (resources: PlannedResource[]) => rdsForceSsl.check(resources).map((f) => f.message);

  it('passes only the value "1", and names the value otherwise', () => {
    expect(messages([group("1"), db({})])).toEqual([]);
    expect(messages([group("0"), db({})])).toEqual(['parameter group g sets rds.force_ssl=0; set rds.force_ssl to "1"']);
    expect(messages([group(undefined), db({})])).toEqual([
      'parameter group g sets rds.force_ssl=(unset); set rds.force_ssl to "1"',
    ]);
  });

  it("a group that is not in the stack, or no group at all, is caught by name", () => {
    expect(messages([group("1", "other"), db({})])).toEqual([
      'parameterGroupName g is not a group of this stack; set rds.force_ssl to "1"',
    ]);
    expect(messages([group("1"), db({ parameterGroupName: undefined })])).toEqual([
      'parameterGroupName (default group) is not a group of this stack; set rds.force_ssl to "1"',
    ]);
  });

  it("follows a reference unknown during preview to the only group there is, and to none when there are several", () => {
    expect(messages([group("1"), db({ parameterGroupName: UNKNOWN })])).toEqual([]);
    expect(messages([group("1"), group("1", "h"), db({ parameterGroupName: UNKNOWN })])).toHaveLength(1);
  });

  it("checks PostgreSQL engines only, and reports the instance", () => {
    expect(messages([group("0"), db({ engine: "mysql" })])).toEqual([]);
    expect(messages([group("0"), db({ engine: undefined })])).toEqual([]);
    const instance = db({ engine: "postgres16" });
    expect(rdsForceSsl.check([group("0"), instance])).toEqual([{ resource: instance, message: expect.any(String) }]);
  });
});

describe("alb-listener-tls", () => {
  const listener = (props: Record<string, unknown>) => r("aws:lb/listener:Listener", "l", props);
  const redirect = (protocol: string) => ({ type: "redirect", redirect: { protocol } });

  it("HTTPS and TLS pass in any case; TCP and UDP are not HTTP and pass", () => {
    for (const protocol of ["HTTPS", "https", "TLS", "tls", "TCP", "UDP"])
      expect(albListenerTls.check(listener({ protocol }))).toEqual([]);
  });

  it("plain HTTP passes only when every action redirects to HTTPS", () => {
    expect(albListenerTls.check(listener({ protocol: "HTTP", defaultActions: [redirect("HTTPS")] }))).toEqual([]);
    expect(albListenerTls.check(listener({ protocol: "http", defaultActions: [redirect("HTTPS"), redirect("HTTPS")] }))).toEqual(
      [],
    );
    for (const defaultActions of [
      [],
      undefined,
      [redirect("HTTP")],
      [redirect("HTTPS"), { type: "forward" }],
      [{ type: "redirect" }],
    ])
      expect(albListenerTls.check(listener({ protocol: "HTTP", port: 8080, defaultActions }))).toEqual([
        expect.stringContaining("plain HTTP on port 8080 serves traffic"),
      ]);
  });

  it("an action that is not an object (null, a scalar) is not a redirect, and does not crash the check", () => {
    const redirect = { type: "redirect", redirect: { protocol: "HTTPS" } };
    for (const odd of [null, 1, "redirect"])
      expect(
        albListenerTls.check(r("aws:lb/listener:Listener", "l", { protocol: "HTTP", defaultActions: [redirect, odd] })),
      ).toHaveLength(1);
  });

  it("an unset protocol is HTTP (the provider's default), on port 80 unless set", () => {
    expect(albListenerTls.check(listener({}))).toEqual([expect.stringContaining("plain HTTP on port 80 serves traffic")]);
  });
});

describe("cloudfront-tls", () => {
  const distribution = (props: Record<string, unknown>) => r("aws:cloudfront/distribution:Distribution", "cdn", props);
  const https = { originId: "alb", customOriginConfig: { originProtocolPolicy: "https-only" } };

  it("catches plain-HTTP viewers on the default and on any ordered behavior, by path", () => {
    expect(
      cloudfrontTls.check(distribution({ defaultCacheBehavior: { viewerProtocolPolicy: "allow-all" }, origins: [https] })),
    ).toEqual([expect.stringContaining("cache behavior (default) allows plain HTTP viewers")]);
    const ordered = distribution({
      defaultCacheBehavior: { viewerProtocolPolicy: "https-only" },
      orderedCacheBehaviors: [
        { pathPattern: "/api/*", viewerProtocolPolicy: "redirect-to-https" },
        { pathPattern: "/static/*", viewerProtocolPolicy: "allow-all" },
      ],
      origins: [https],
    });
    expect(cloudfrontTls.check(ordered)).toEqual([expect.stringContaining("cache behavior /static/* allows plain HTTP viewers")]);
  });

  it("requires https-only to custom origins only; an S3 origin has no protocol policy", () => {
    expect(cloudfrontTls.check(distribution({ origins: [https, { originId: "bucket", s3OriginConfig: {} }] }))).toEqual([]);
    expect(cloudfrontTls.check(distribution({ origins: [{ originId: "alb", customOriginConfig: {} }] }))).toEqual([
      expect.stringContaining("origin alb uses originProtocolPolicy unset"),
    ]);
    expect(
      cloudfrontTls.check(distribution({ origins: [{ customOriginConfig: { originProtocolPolicy: "match-viewer" } }] })),
    ).toEqual([expect.stringContaining("origin ? uses originProtocolPolicy match-viewer")]);
  });

  it("reports every problem of a distribution, not only the first", () => {
    const bad = distribution({
      defaultCacheBehavior: { viewerProtocolPolicy: "allow-all" },
      origins: [{ originId: "a", customOriginConfig: { originProtocolPolicy: "http-only" } }],
    });
    expect(cloudfrontTls.check(bad)).toHaveLength(2);
  });
});

describe("s3-tls-only", () => {
  const bucket = (name: string, props: Record<string, unknown> = {}) => r("aws:s3/bucket:Bucket", name, props);
  const policyOn = (name: string, props: Record<string, unknown>) => r("aws:s3/bucketPolicy:BucketPolicy", name, props);
  const deny = { Effect: "Deny", Condition: { Bool: { "aws:SecureTransport": "false" } } };
  const flagged = (resources: PlannedResource[]) => s3TlsOnly.check(resources).map((f) => f.resource!.name);

  it("a Deny on SecureTransport false passes, as a string or an object, a single statement or a list, false as a boolean too", () => {
    for (const policy of [
      JSON.stringify({ Statement: [deny] }),
      JSON.stringify({ Statement: deny }),
      { Statement: [{ Effect: "Allow" }, deny] },
      { Statement: [{ Effect: "Deny", Condition: { Bool: { "aws:SecureTransport": false } } }] },
    ])
      expect(flagged([bucket("logs"), policyOn("logs", { policy })])).toEqual([]);
  });

  it("an Allow, a Deny on true, a Deny without the condition, no statement or unparseable JSON is caught", () => {
    for (const policy of [
      { Statement: [{ ...deny, Effect: "Allow" }] },
      { Statement: [{ Effect: "Deny", Condition: { Bool: { "aws:SecureTransport": "true" } } }] },
      { Statement: [{ Effect: "Deny" }] },
      {},
      "{not json",
      undefined,
    ])
      expect(flagged([bucket("logs"), policyOn("logs", { policy })])).toEqual(["logs"]);
  });

  it("a null statement or a condition without Bool neither crashes the check nor counts as the Deny", () => {
    const otherCondition = { Effect: "Deny", Condition: { StringNotEquals: { "aws:SourceVpce": "vpce-1" } } };
    for (const policy of [{ Statement: [null] }, { Statement: [otherCondition] }, { Statement: null }])
      expect(flagged([bucket("logs"), policyOn("logs", { policy })])).toEqual(["logs"]);
    // Beside the real Deny, neither hides it.
    for (const odd of [null, otherCondition])
      expect(flagged([bucket("logs"), policyOn("logs", { policy: { Statement: [odd, deny] } })])).toEqual([]);
  });

  it("a policy covers the bucket of its name or the bucket its `bucket` names, no other", () => {
    const policy = { Statement: [deny] };
    expect(flagged([bucket("logs", { bucket: "logs-bucket" }), policyOn("p", { bucket: "logs-bucket", policy })])).toEqual([]);
    expect(
      flagged([bucket("logs", { bucket: "logs-bucket" }), bucket("data"), policyOn("p", { bucket: "logs-bucket", policy })]),
    ).toEqual(["data"]);
    // A bucket without a `bucket` name is not covered by a policy whose `bucket` is also unset.
    expect(flagged([bucket("data"), policyOn("p", { policy })])).toEqual(["data"]);
  });
});
