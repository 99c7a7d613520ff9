import { isType, recordsIn, resolveRef, truthy } from "./match";
import type { PlannedResource, ResourceRule, StackRule } from "./types";

/** ElastiCache replication groups require TLS (transit encryption on, mode `required`). */
export const elasticacheInTransit: ResourceRule = {
  kind: "resource",
  name: "elasticache-in-transit-encrypted",
  description: "ElastiCache replication groups must enable transit encryption in `required` mode.",
  enforcementLevel: "mandatory",
  check(r) {
    if (!isType(r, "aws:elasticache/replicationGroup:ReplicationGroup")) return [];
    if (!truthy(r.props.transitEncryptionEnabled))
      return [`transitEncryptionEnabled is ${r.props.transitEncryptionEnabled ?? "unset"}; set it to true`];
    // `preferred` accepts plaintext clients too (it exists only to migrate to TLS).
    if (r.props.transitEncryptionMode === "preferred")
      return [`transitEncryptionMode is "preferred", which still accepts plaintext; set "required"`];
    return [];
  },
};

function parameterValue(group: PlannedResource, name: string): string | undefined {
  return recordsIn<{ name?: unknown; value?: string }>(group.props.parameters).find((p) => p.name === name)?.value;
}

/**
 * RDS PostgreSQL accepts plaintext connections unless `rds.force_ssl` is 1 (the default became 1
 * only with PostgreSQL 15). The instance's parameter group must set it.
 */
export const rdsForceSsl: StackRule = {
  kind: "stack",
  name: "rds-force-ssl",
  description: "RDS PostgreSQL instances must use a parameter group with rds.force_ssl = 1.",
  enforcementLevel: "mandatory",
  check(resources) {
    const groups = resources.filter((r) => isType(r, "aws:rds/parameterGroup:ParameterGroup"));
    return resources
      .filter((r) => isType(r, "aws:rds/instance:Instance") && String(r.props.engine ?? "").startsWith("postgres"))
      .flatMap((db) => {
        const group = resolveRef(db.props.parameterGroupName, groups, "name");
        const value = group ? parameterValue(group, "rds.force_ssl") : undefined;
        if (value === "1") return [];
        const where = group
          ? `parameter group ${group.props.name} sets rds.force_ssl=${value ?? "(unset)"}`
          : `parameterGroupName ${db.props.parameterGroupName ?? "(default group)"} is not a group of this stack`;
        return [{ resource: db, message: `${where}; set rds.force_ssl to "1"` }];
      });
  },
};

/** An ALB listener serves HTTPS, or plain HTTP only to redirect to HTTPS (AWSGuard alb-http-to-https-redirection). */
export const albListenerTls: ResourceRule = {
  kind: "resource",
  name: "alb-listener-tls",
  description: "Load balancer listeners must be HTTPS/TLS, or HTTP that only redirects to HTTPS.",
  enforcementLevel: "mandatory",
  check(r) {
    if (!isType(r, "aws:lb/listener:Listener")) return [];
    const protocol = String(r.props.protocol ?? "HTTP").toUpperCase();
    // Only plain HTTP is judged: HTTPS and TLS listeners encrypt, TCP/UDP ones (NLB) carry whatever the app speaks.
    if (protocol !== "HTTP") return [];
    // Every entry must be a redirect to HTTPS: one that is not an action at all (null, a scalar) does not count as one.
    const actions: ({ type?: string; redirect?: { protocol?: string } } | null | undefined)[] = Array.isArray(
      r.props.defaultActions,
    )
      ? r.props.defaultActions
      : [];
    const redirectsOnly = actions.length > 0 && actions.every((a) => a?.type === "redirect" && a.redirect?.protocol === "HTTPS");
    return redirectsOnly
      ? []
      : [
          `plain HTTP on port ${r.props.port ?? 80} serves traffic; use protocol HTTPS with a certificate, or make this listener redirect to HTTPS`,
        ];
  },
};

interface CacheBehavior {
  viewerProtocolPolicy?: string;
  pathPattern?: string;
}

/**
 * CloudFront talks HTTPS on both legs: viewers are redirected to HTTPS, and custom origins are
 * reached with `originProtocolPolicy: https-only` (an ALB origin over http-only sends every
 * request and cookie in clear text across the internet).
 */
export const cloudfrontTls: ResourceRule = {
  kind: "resource",
  name: "cloudfront-tls",
  description: "CloudFront must use HTTPS to viewers (https-only/redirect-to-https) and to custom origins (https-only).",
  enforcementLevel: "mandatory",
  check(r) {
    if (!isType(r, "aws:cloudfront/distribution:Distribution")) return [];
    const problems: string[] = [];
    const behaviors: CacheBehavior[] = [
      r.props.defaultCacheBehavior,
      ...(Array.isArray(r.props.orderedCacheBehaviors) ? r.props.orderedCacheBehaviors : []),
    ].filter(Boolean);
    for (const b of behaviors) {
      if (b.viewerProtocolPolicy === "allow-all")
        problems.push(
          `cache behavior ${b.pathPattern ?? "(default)"} allows plain HTTP viewers; set viewerProtocolPolicy redirect-to-https`,
        );
    }
    for (const o of recordsIn<{ originId?: string; customOriginConfig?: { originProtocolPolicy?: string } }>(r.props.origins)) {
      const policy = o.customOriginConfig?.originProtocolPolicy;
      if (o.customOriginConfig && policy !== "https-only")
        problems.push(
          `origin ${o.originId ?? "?"} uses originProtocolPolicy ${policy ?? "unset"}; set https-only (and an HTTPS listener on the origin)`,
        );
    }
    return problems.map((p) => `${p}`);
  },
};

interface PolicyStatement {
  Effect?: string;
  Condition?: Record<string, Record<string, unknown>>;
}

function deniesInsecureTransport(policy: unknown): boolean {
  let doc: { Statement?: PolicyStatement | PolicyStatement[] };
  try {
    doc = typeof policy === "string" ? JSON.parse(policy) : (policy as typeof doc);
  } catch {
    return false;
  }
  // A policy is user JSON: a statement may be null or a condition may hold other operators than Bool, and neither
  // may crash the policy run; such a statement simply does not deny plain HTTP.
  return [doc?.Statement ?? []]
    .flat()
    .some((s) => s?.Effect === "Deny" && String(s.Condition?.Bool?.["aws:SecureTransport"]) === "false");
}

/** S3 buckets refuse plain-HTTP requests: a bucket policy denies `aws:SecureTransport = false` (CIS 2.1.2). */
export const s3TlsOnly: StackRule = {
  kind: "stack",
  name: "s3-tls-only",
  description: "S3 buckets must have a bucket policy that denies requests without TLS (aws:SecureTransport false).",
  enforcementLevel: "mandatory",
  check(resources) {
    const policies = resources.filter(
      (r) => isType(r, "aws:s3/bucketPolicy:BucketPolicy") && deniesInsecureTransport(r.props.policy),
    );
    return resources
      .filter((r) => isType(r, "aws:s3/bucket:Bucket"))
      .filter((bucket) => {
        const refs = [bucket.props.bucket].filter(Boolean);
        return !policies.some((p) => p.name === bucket.name || refs.includes(p.props.bucket));
      })
      .map((bucket) => ({
        resource: bucket,
        message: `no bucket policy denies aws:SecureTransport=false; add a Deny statement for plain-HTTP requests`,
      }));
  },
};
