import calendars from "../vendor/aws/engine-support-calendars.json";
import ec2 from "../vendor/aws/ec2-instance-types.json";
import ec2Capacity from "../vendor/aws/ec2-instance-capacity.json";
import elasticache from "../vendor/aws/elasticache-node-types.json";
import regions from "../vendor/aws/regions.json";

/**
 * What exists at AWS, as vendored data (vendor/README.md names each file's source, version and
 * licence): regions by partition, EC2 instance types, ElastiCache node types and the support
 * calendars of the engines the stack pins. The rules that read them are aws-rules.ts and
 * support-calendar.ts; to update, replace the vendored file from the same source.
 */

/** Region id -> its partition ("aws", "aws-cn", "aws-us-gov", ...): the partition every ARN of the region carries. */
export const PARTITION_OF_REGION: ReadonlyMap<string, string> = new Map(
  regions.partitions.flatMap((p) => p.regions.map((r) => [r, p.id] as const)),
);
export const PARTITIONS: ReadonlySet<string> = new Set(regions.partitions.map((p) => p.id));

export const EC2_INSTANCE_TYPES: ReadonlySet<string> = new Set(ec2.instanceTypes);
/**
 * What a node of an instance type has and leaves to pods (Kubernetes allocatable after kube-reserved,
 * the eviction threshold and the hypervisor's share; max pods from the VPC CNI's ENI limits), as
 * Karpenter computes it for the AL2023 AMI: vendor/aws/ec2-instance-capacity.json.
 */
export interface InstanceCapacity {
  vcpu: number;
  memoryMiB: number;
  allocatableCpuMillicores: number;
  allocatableMemoryMiB: number;
  maxPods: number;
}
export const EC2_INSTANCE_CAPACITY: ReadonlyMap<string, InstanceCapacity> = new Map(Object.entries(ec2Capacity.instanceTypes));
/** Where EC2_INSTANCE_CAPACITY comes from, for messages. */
export const EC2_INSTANCE_CAPACITY_SOURCE =
  "vendor/aws/ec2-instance-capacity.json (Karpenter's instance-types reference, AL2023)";

/** Node types new ElastiCache clusters can use. */
export const ELASTICACHE_NODE_TYPES: ReadonlySet<string> = new Set(elasticache.currentGeneration);
/** Node types AWS still runs but creates no new clusters of. */
export const ELASTICACHE_PREVIOUS_GENERATION: ReadonlySet<string> = new Set(elasticache.previousGeneration);

/**
 * One version's support window. `standardSupportEnds`: the first day AWS no longer gives it
 * standard support (a date), or false while none is announced. `extendedSupportEnds`: likewise for
 * paid extended support; true when it has ended on an unrecorded date, null when there is none.
 */
export interface SupportWindow {
  cycle: string;
  released: string;
  standardSupportEnds: string | false;
  extendedSupportEnds: string | boolean | null;
}

export interface SupportCalendar {
  /** What the calendar covers, as messages name it. */
  engine: string;
  /** Where the dates come from (the vendored file's source and AWS's own page). */
  source: string;
  releases: readonly SupportWindow[];
}

function calendar(engine: string, data: { source: string; aws: string; releases: unknown[] }): SupportCalendar {
  return { engine, source: data.aws, releases: data.releases as SupportWindow[] };
}

export const EKS_CALENDAR = calendar("EKS Kubernetes", calendars.eks);
export const RDS_POSTGRES_CALENDAR = calendar("RDS for PostgreSQL", calendars.rdsPostgresql);
export const ELASTICACHE_REDIS_CALENDAR = calendar("ElastiCache for Redis OSS", calendars.elasticacheRedis);
/** The Redis OSS versions ElastiCache creates by "major.minor" (what the profile pins). */
export const ELASTICACHE_REDIS_VERSIONS: readonly string[] = calendars.elasticacheRedis.versions;
