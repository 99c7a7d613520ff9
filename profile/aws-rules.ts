import vpcRules from "../vendor/aws/vpc-cidr-rules.json";
import { EC2_INSTANCE_TYPES, ELASTICACHE_NODE_TYPES, ELASTICACHE_PREVIOUS_GENERATION, PARTITION_OF_REGION } from "./aws-catalog";
import {
  dnsNameIssue,
  iamRoleArnIssue,
  parseCertificateArn,
  partitionOfArn,
  rdsNameIssue,
  type RdsNameKind,
} from "./aws-identifiers";
import type { ProfileIssue } from "./errors";
import { presetFor } from "./presets";
import { overlaps, parseIpv4Cidr, reservedDbUsername, type ParsedCidr } from "./provider-rules";
import { ENVIRONMENTS, type Profile } from "./schema";
import { unknownVersionIssues } from "./support-calendar";

/**
 * AWS's real rules over the profile, from vendored lists (aws-catalog.ts, vendor/aws/): what the
 * mocks accept and AWS would refuse at `pulumi up`, or accept and break. Each issue names the key,
 * the value as written and the fix. Two entry points:
 * - awsProfileIssues(p): what the profile alone decides, versions AWS does not have included (run by
 *   parseConfig through provider-rules.ts); their support on the day is support-calendar.ts';
 * - awsRegionIssues(p, region): what depends on the stack's `aws:region` (run by AwsPlatform).
 */

const show = JSON.stringify;

// ---- the platform a preset belongs to ------------------------------------------------------------

/** Each environment's preset is built for one platform (presets.ts): another one contradicts it. */
export function platformIssue(p: Profile): ProfileIssue | undefined {
  const expected = presetFor(p.environment).platform as Profile["platform"];
  if (p.platform === expected) return undefined;
  const fitting = ENVIRONMENTS.filter((e) => presetFor(e).platform === p.platform);
  return {
    path: "platform",
    message: `${show(p.platform)} contradicts environment ${show(p.environment)}, whose preset is built for ${show(expected)} (its sizes, node and cache types are ${expected}'s); remove uaip:platform, or use an environment built for ${p.platform}: ${fitting.join(", ")}`,
  };
}

// ---- types that exist -------------------------------------------------------------------------------

function catalogIssue(
  path: string,
  value: string,
  known: ReadonlySet<string>,
  what: string,
  file: string,
  retired: ReadonlySet<string> = new Set(),
): ProfileIssue[] {
  if (known.has(value)) return [];
  if (retired.has(value)) {
    const current = [...known].filter((t) => t.endsWith(value.slice(value.lastIndexOf("."))));
    return [
      {
        path,
        message: `${show(value)} is a previous-generation ${what}: AWS runs existing clusters but creates no new ones (${file}); use a current one of that size, e.g. ${current.slice(0, 4).join(", ")}`,
      },
    ];
  }
  // Suggest the sizes AWS has in the same family (t3.gigantic -> t3.nano ... t3.2xlarge), else nothing invented.
  const family = value.slice(0, value.lastIndexOf(".") + 1);
  const sameFamily = family ? [...known].filter((t) => t.startsWith(family)) : [];
  const hint = sameFamily.length ? `; the ${family.slice(0, -1)} family has ${sameFamily.join(", ")}` : "";
  return [{ path, message: `${show(value)} is not an ${what} AWS offers (${file})${hint}` }];
}

// ---- VPC CIDRs --------------------------------------------------------------------------------------

// Parsed on first use: provider-rules.ts (parseIpv4Cidr) and this file import each other.
let vpcRanges:
  { forbidden: ((typeof vpcRules.forbidden)[number] & { cidr: ParsedCidr })[]; recommended: ParsedCidr[] } | undefined;
function vpcRangesParsed(): NonNullable<typeof vpcRanges> {
  return (vpcRanges ??= {
    forbidden: vpcRules.forbidden.map((f) => ({ ...f, cidr: parseIpv4Cidr(f.range) as ParsedCidr })),
    recommended: vpcRules.recommended.ranges.map((r) => parseIpv4Cidr(r) as ParsedCidr),
  });
}

function within(inner: ParsedCidr, outer: ParsedCidr): boolean {
  return inner.prefix >= outer.prefix && overlaps(inner, outer);
}

/** A VPC range that AWS or IP itself reserves, or outside the private ranges AWS recommends. */
export function vpcCidrIssue(cidr: string): string | undefined {
  const parsed = parseIpv4Cidr(cidr);
  if (typeof parsed === "string") return undefined; // the profile's own CIDR check reports it
  const { forbidden, recommended } = vpcRangesParsed();
  const hit = forbidden.find((f) => overlaps(parsed, f.cidr));
  if (hit) return `overlaps ${hit.range}, ${hit.what}; use a private range such as 10.0.0.0/16`;
  if (!recommended.some((r) => within(parsed, r)))
    return `is publicly routable: ${vpcRules.recommended.why}; use a range inside ${vpcRules.recommended.ranges.join(", ")}`;
  return undefined;
}

// ---- the profile ------------------------------------------------------------------------------------

function rdsNameIssues(p: Profile): ProfileIssue[] {
  const fields: [RdsNameKind, "username" | "name"][] = [
    ["masterUsername", "username"],
    ["dbName", "name"],
  ];
  return fields.flatMap(([kind, key]): ProfileIssue[] => {
    const value = p.database[key];
    const issue = rdsNameIssue(kind, value) ?? (kind === "masterUsername" ? reservedDbUsername(value) : undefined);
    if (!issue) return [];
    const as = kind === "masterUsername" ? "the master user" : "the database name";
    const message = `${show(value)} ${issue.replace(/^"[^"]*" /, "")}; RDS refuses it as ${as}: pick another, e.g. "uaip"`;
    return [{ path: `database.${key}`, message }];
  });
}

function adminRoleIssues(p: Profile): ProfileIssue[] {
  const issues: ProfileIssue[] = [];
  const seen = new Map<string, number>();
  p.cluster.adminRoleArns.forEach((arn, i) => {
    const path = `cluster.adminRoleArns[${i}]`;
    const shape = iamRoleArnIssue(arn);
    if (shape) issues.push({ path, message: `${show(arn)} ${shape}` });
    const first = seen.get(arn);
    if (first !== undefined)
      issues.push({
        path,
        message: `${show(arn)} is listed twice (also cluster.adminRoleArns[${first}]); EKS refuses a second access entry for the same principal: remove one`,
      });
    else seen.set(arn, i);
  });
  return issues;
}

/** AWS's rules that the profile alone decides. */
export function awsProfileIssues(p: Profile): ProfileIssue[] {
  const issues: ProfileIssue[] = [];
  const platform = platformIssue(p);
  if (platform) issues.push(platform);
  if (p.platform !== "aws") return issues;

  p.cluster.instanceTypes.forEach((t, i) =>
    issues.push(
      ...catalogIssue(
        `cluster.instanceTypes[${i}]`,
        t,
        EC2_INSTANCE_TYPES,
        "EC2 instance type",
        "vendor/aws/ec2-instance-types.json",
      ),
    ),
  );
  issues.push(
    ...catalogIssue(
      "redis.nodeType",
      p.redis.nodeType,
      ELASTICACHE_NODE_TYPES,
      "ElastiCache node type",
      "vendor/aws/elasticache-node-types.json",
      ELASTICACHE_PREVIOUS_GENERATION,
    ),
  );
  issues.push(...unknownVersionIssues(p));
  issues.push(...rdsNameIssues(p));
  const vpc = vpcCidrIssue(p.network.cidr);
  if (vpc) issues.push({ path: "network.cidr", message: `${show(p.network.cidr)} ${vpc}` });
  const { certificateArn, domainName } = p.loadBalancer;
  if (certificateArn) {
    const cert = parseCertificateArn(certificateArn);
    if (typeof cert === "string")
      issues.push({ path: "loadBalancer.certificateArn", message: `${show(certificateArn)} ${cert}` });
  }
  if (domainName) {
    const dns = dnsNameIssue(domainName);
    if (dns) issues.push({ path: "loadBalancer.domainName", message: `${show(domainName)} ${dns}` });
  }
  issues.push(...adminRoleIssues(p));
  return issues;
}

/** `aws:region` is a region of a vendored partition (config.ts checks it where it reads it, with the parse errors). */
export function unknownRegionIssue(region: string): ProfileIssue | undefined {
  if (PARTITION_OF_REGION.has(region)) return undefined;
  const near = [...PARTITION_OF_REGION.keys()].filter((r) => r.split("-")[0] === region.split("-")[0]);
  return {
    path: "aws:region",
    message: `${show(region)} is not an AWS region (vendor/aws/regions.json)${near.length ? `; regions with that prefix: ${near.join(", ")}` : ""}; run: pulumi config set aws:region <region>, e.g. us-east-1`,
  };
}

/**
 * AWS's rules that depend on the stack's region (`aws:region`): the region exists, the ALB's
 * certificate lives in it (an ALB listener takes only an ACM certificate of its own region;
 * CloudFront, only one of us-east-1), and every ARN is in its partition.
 */
export function awsRegionIssues(p: Profile, region: string): ProfileIssue[] {
  const unknown = unknownRegionIssue(region);
  if (unknown) return [unknown];
  const partition = PARTITION_OF_REGION.get(region)!;
  const issues: ProfileIssue[] = [];
  const cert = p.loadBalancer.certificateArn ? parseCertificateArn(p.loadBalancer.certificateArn) : undefined;
  if (cert && typeof cert !== "string" && cert.region !== region) {
    issues.push({
      path: "loadBalancer.certificateArn",
      message: `${show(p.loadBalancer.certificateArn)} is in ${cert.region}, but the ALB is in the stack's region ${region} and takes only a certificate of its own region; request (or import) the certificate in ACM in ${region} and set its ARN`,
    });
  }
  p.cluster.adminRoleArns.forEach((arn, i) => {
    const own = partitionOfArn(arn);
    if (own && own !== partition && !iamRoleArnIssue(arn))
      issues.push({
        path: `cluster.adminRoleArns[${i}]`,
        message: `${show(arn)} is in partition "${own}", but ${region} is in "${partition}"; use the role's ARN in ${partition} (arn:${partition}:iam::...)`,
      });
  });
  return issues;
}
