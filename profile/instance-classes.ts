/**
 * The RDS PostgreSQL instance classes the profile allows, with their memory. RDS's default
 * `max_connections` is LEAST(DBInstanceClassMemory / 9531392, 5000); we set the parameter
 * explicitly, and it may never exceed what the class can hold.
 */
export const DB_INSTANCE_CLASS_MEMORY_GIB = {
  "db.t4g.micro": 1,
  "db.t4g.small": 2,
  "db.t4g.medium": 4,
  "db.t4g.large": 8,
  "db.t4g.xlarge": 16,
  "db.m7g.large": 8,
  "db.m7g.xlarge": 16,
  "db.m7g.2xlarge": 32,
  "db.m7g.4xlarge": 64,
  "db.r7g.large": 16,
  "db.r7g.xlarge": 32,
  "db.r7g.2xlarge": 64,
  "db.r7g.4xlarge": 128,
} as const;

export type DbInstanceClass = keyof typeof DB_INSTANCE_CLASS_MEMORY_GIB;
export const DB_INSTANCE_CLASSES = Object.keys(DB_INSTANCE_CLASS_MEMORY_GIB) as DbInstanceClass[];

/** RDS's own ceiling for a class: LEAST(memory bytes / 9531392, 5000). */
export function maxConnectionsForClass(instanceClass: DbInstanceClass): number {
  const bytes = DB_INSTANCE_CLASS_MEMORY_GIB[instanceClass] * 1024 ** 3;
  return Math.min(Math.floor(bytes / 9_531_392), 5_000);
}

/**
 * vCPUs of each class (AWS's "Hardware specifications for DB instance classes",
 * https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/Concepts.DBInstanceClass.Summary.html):
 * RDS Proxy bills per vCPU of the instances it fronts (tools/cost).
 */
export const DB_INSTANCE_CLASS_VCPUS: Readonly<Record<DbInstanceClass, number>> = {
  "db.t4g.micro": 2,
  "db.t4g.small": 2,
  "db.t4g.medium": 2,
  "db.t4g.large": 2,
  "db.t4g.xlarge": 4,
  "db.m7g.large": 2,
  "db.m7g.xlarge": 4,
  "db.m7g.2xlarge": 8,
  "db.m7g.4xlarge": 16,
  "db.r7g.large": 2,
  "db.r7g.xlarge": 4,
  "db.r7g.2xlarge": 8,
  "db.r7g.4xlarge": 16,
};
