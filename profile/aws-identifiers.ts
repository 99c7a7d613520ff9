import rds from "../vendor/aws/rds-postgresql-identifiers.json";
import { PARTITIONS, PARTITION_OF_REGION } from "./aws-catalog";

/**
 * The shapes of the identifiers a stack file writes for AWS: ARNs, DNS names and RDS names. Each
 * function returns what is wrong with one value (undefined when nothing is), phrased to follow the
 * key and the value as written; aws-rules.ts adds the key and runs them over the profile.
 */

// ---- ARNs ---------------------------------------------------------------------------------------

/** ACM certificate ids are UUIDs in lowercase hex (8-4-4-4-12). */
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

export interface CertificateArn {
  partition: string;
  region: string;
  account: string;
  id: string;
}

/** An ACM certificate ARN, `arn:<partition>:acm:<region>:<12-digit account>:certificate/<uuid>`, or what is wrong with it. */
export function parseCertificateArn(arn: string): CertificateArn | string {
  const m = /^arn:([^:]*):acm:([^:]*):([^:]*):certificate\/(.*)$/.exec(arn);
  if (!m) return "is not an ACM certificate ARN (arn:<partition>:acm:<region>:<account>:certificate/<id>)";
  const [, partition, region, account, id] = m as unknown as [string, string, string, string, string];
  if (!PARTITIONS.has(partition)) return `has partition "${partition}", which AWS does not have (${[...PARTITIONS].join(", ")})`;
  if (!PARTITION_OF_REGION.has(region)) return `names region "${region}", which is not an AWS region`;
  if (PARTITION_OF_REGION.get(region) !== partition)
    return `names region ${region} under partition "${partition}", but ${region} is in "${PARTITION_OF_REGION.get(region)}"`;
  if (!/^\d{12}$/.test(account)) return `has account "${account}"; AWS account ids are 12 digits`;
  if (!UUID.test(id)) return `has certificate id "${id}"; ACM ids are lowercase UUIDs like 0a1b2c3d-4e5f-6789-abcd-ef0123456789`;
  return { partition, region, account, id };
}

/** IAM names: letters, digits and + = , . @ _ - (IAM API reference, CreateRole). */
const IAM_NAME = /^[\w+=,.@-]+$/;
/**
 * An IAM path: "/" alone, or "/", then printable ASCII from ! (U+0021) through DEL (U+007F), then "/"; at most 512
 * characters (IAM API reference, CreateRole, Path: https://docs.aws.amazon.com/IAM/latest/APIReference/API_CreateRole.html).
 * Looser than a name: "/team:ops/" or "/a!b/" are paths AWS creates. EKS access entries take a role ARN with its path
 * (https://docs.aws.amazon.com/eks/latest/userguide/creating-access-entries.html).
 */
const IAM_PATH = /^\/([\u0021-\u007f]+\/)?$/;
const IAM_PATH_MAX = 512;

/**
 * An IAM role ARN's shape, as the profile's schema checks it (cluster.adminRoleArns, ci.deploys.roleArn): partition,
 * account and "role/" then anything without spaces. Its name and path are iamRoleArnIssue's to judge, with AWS's limits.
 */
export const IAM_ROLE_ARN_SHAPE = /^arn:aws[-a-z]*:iam::\d{12}:role\/\S+$/;

/** An IAM role ARN, `arn:<partition>:iam::<account>:role/<path/><name>`: what is wrong with it, if anything. */
export function iamRoleArnIssue(arn: string): string | undefined {
  const m = /^arn:([^:]*):iam::([^:]*):role\/(.*)$/.exec(arn);
  if (!m) return "is not an IAM role ARN (arn:<partition>:iam::<account>:role/<name>)";
  const [, partition, account, pathAndName] = m as unknown as [string, string, string, string];
  if (!PARTITIONS.has(partition)) return `has partition "${partition}", which AWS does not have (${[...PARTITIONS].join(", ")})`;
  if (!/^\d{12}$/.test(account)) return `has account "${account}"; AWS account ids are 12 digits`;
  const parts = pathAndName.split("/");
  const name = parts.pop()!;
  // CreateRole: RoleName 1..64 (IAM_NAME needs one character), Path 1..512 ("/" included at both ends).
  if (name.length > 64 || !IAM_NAME.test(name))
    return `has role name "${name}"; IAM role names are 1 to 64 of letters, digits and + = , . @ _ -`;
  const path = parts.length ? `/${parts.join("/")}/` : "/";
  if (path.length > IAM_PATH_MAX || !IAM_PATH.test(path))
    return `has path "${path}"; IAM paths start and end with "/" and hold printable ASCII characters without spaces (${IAM_PATH_MAX} characters at most)`;
  return undefined;
}

/** The partition an ARN names ("aws", "aws-cn", ...), for comparing with the stack region's. */
export function partitionOfArn(arn: string): string | undefined {
  return /^arn:([^:]+):/.exec(arn)?.[1];
}

// ---- DNS names ----------------------------------------------------------------------------------

export const MAX_DNS_NAME = 253;
export const MAX_DNS_LABEL = 63;

/**
 * A public DNS host name (RFC 1035/1123), as ACM certificates and CloudFront origins need it: at
 * least two labels, each 1..63 of lowercase letters, digits and hyphens, not starting or ending
 * with a hyphen; 253 characters at most; a top-level label that is not all digits, so an IPv4
 * address is never taken for a name (CloudFront refuses IP addresses as origin domain names).
 */
export function dnsNameIssue(name: string): string | undefined {
  if (/^\d{1,3}(\.\d{1,3}){3}$/.test(name))
    return "is an IP address; CloudFront origins and ACM certificates need a DNS name: use the name your certificate covers";
  if (name.length > MAX_DNS_NAME) return `has ${name.length} characters; DNS names have at most ${MAX_DNS_NAME}`;
  const labels = name.split(".");
  if (labels.length < 2) return "is a single label; use a fully qualified name like origin.example.org";
  for (const label of labels) {
    if (label.length === 0) return "has an empty label (two dots in a row, or a dot at an end)";
    if (label.length > MAX_DNS_LABEL)
      return `has a label of ${label.length} characters ("${label.slice(0, 20)}..."); DNS labels have at most ${MAX_DNS_LABEL}`;
    if (!/^[a-z0-9-]+$/.test(label))
      return `has label "${label}" with characters DNS names cannot have; use lowercase letters, digits and hyphens`;
    if (label.startsWith("-") || label.endsWith("-")) return `has label "${label}", which starts or ends with a hyphen`;
  }
  if (/^\d+$/.test(labels[labels.length - 1]!)) return "ends in an all-digit label; top-level domains are never numeric";
  return undefined;
}

// ---- RDS for PostgreSQL names -------------------------------------------------------------------

const RESERVED_KEY_WORDS: ReadonlySet<string> = new Set(rds.reservedKeyWords.words);
const EXISTING_DATABASES: ReadonlySet<string> = new Set(rds.existingDatabases.names);

/** RDS's rule for a master user name or an initial database name: which one, and its limits. */
export type RdsNameKind = "masterUsername" | "dbName";

/**
 * RDS for PostgreSQL's CreateDBInstance constraints on MasterUsername (1..16) and DBName (1..63):
 * letters, digits and underscores, a letter first, no reserved word; and for a database, none of
 * those every instance already has. (Role prefixes RDS reserves are checked by reservedDbUsername.)
 */
export function rdsNameIssue(kind: RdsNameKind, value: string): string | undefined {
  const { min, max } = rds[kind];
  const what = kind === "masterUsername" ? "master user names" : "database names";
  if (value.length < min || value.length > max)
    return `has ${value.length} characters; RDS for PostgreSQL ${what} have ${min} to ${max}`;
  if (!/^[A-Za-z]/.test(value)) return `starts with "${value[0]}"; RDS for PostgreSQL ${what} start with a letter`;
  if (!/^\w+$/.test(value)) return `has characters RDS refuses; ${what} are letters, digits and underscores`;
  if (RESERVED_KEY_WORDS.has(value.toLowerCase())) return `is reserved by PostgreSQL (a reserved key word)`;
  if (kind === "dbName" && EXISTING_DATABASES.has(value.toLowerCase()))
    return `is a database every RDS for PostgreSQL instance already has (${[...EXISTING_DATABASES].join(", ")})`;
  return undefined;
}
