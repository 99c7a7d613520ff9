import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import * as random from "@pulumi/random";
import { ComponentArgsError } from "../../profile/errors";
import { familyScopedName } from "../../profile/naming";
import { mergeTags } from "../../profile/tags";

/** Logs RDS exports to CloudWatch (`/aws/rds/instance/<identifier>/<log>`). */
export const DB_LOG_EXPORTS = ["postgresql", "upgrade"] as const;

/** PostgreSQL's hard ceiling for max_connections. */
export const POSTGRES_MAX_CONNECTIONS_LIMIT = 262143;

/** "16" (or "16.4") -> "postgres16"; RDS parameter group families follow the major version. */
export function postgresFamily(engineVersion: string): string {
  const major = /^(\d+)(\.\d+)?$/.exec(engineVersion)?.[1];
  if (!major)
    throw new ComponentArgsError("DatabaseArgs.engineVersion", `"${engineVersion}" is not a PostgreSQL major version like "16"`);
  return `postgres${major}`;
}

/** RDS for PostgreSQL: read replicas per source (vendor/aws/data-tier-limits.json). */
export const MAX_READ_REPLICAS = 15;

/** Read replicas 0..15; RDS creates them only from a source with automated backups. */
export function readReplicaCount(readReplicas: number, backupRetentionDays: number): number {
  if (!Number.isInteger(readReplicas) || readReplicas < 0 || readReplicas > MAX_READ_REPLICAS)
    throw new ComponentArgsError(
      "DatabaseArgs.readReplicas",
      `${readReplicas} must be an integer from 0 to ${MAX_READ_REPLICAS}`,
    );
  if (readReplicas > 0 && backupRetentionDays < 1)
    throw new ComponentArgsError(
      "DatabaseArgs.backupRetentionDays",
      `0 with readReplicas ${readReplicas}: RDS needs automated backups on the source of a read replica; set backupRetentionDays >= 1`,
    );
  return readReplicas;
}

export interface DbParameter {
  name: string;
  value: string;
  /** "pending-reboot" for static parameters (RDS refuses "immediate" for them). */
  applyMethod: "immediate" | "pending-reboot";
}

export interface PostgresParameterInput {
  maxConnections: number;
  logMinDurationStatementMs: number;
}

/**
 * The parameter group's settings.
 * - `max_connections` is set explicitly (not RDS's memory formula) so the connection budget
 *   the lead's checks compute is the number the server enforces. Static: applies on reboot.
 * - `rds.force_ssl=1`: no plaintext client connections.
 * - Autovacuum: trigger earlier than the defaults (5 %/2 % of a table instead of 20 %/10 %) and
 *   let it work faster, so hot tables of a busy API do not bloat; log slow autovacuum runs.
 * - `idle_in_transaction_session_timeout`: a leaked pooled connection holding a transaction
 *   open would block vacuum and hold locks; kill it after 60 s.
 */
export function postgresParameters(input: PostgresParameterInput): DbParameter[] {
  const { maxConnections, logMinDurationStatementMs } = input;
  if (!Number.isInteger(maxConnections) || maxConnections < 10 || maxConnections > POSTGRES_MAX_CONNECTIONS_LIMIT) {
    throw new ComponentArgsError(
      "DatabaseArgs.maxConnections",
      `${maxConnections} must be an integer from 10 to ${POSTGRES_MAX_CONNECTIONS_LIMIT}; pass the connection budget`,
    );
  }
  if (!Number.isInteger(logMinDurationStatementMs) || logMinDurationStatementMs < -1) {
    throw new ComponentArgsError(
      "DatabaseArgs.logMinDurationStatementMs",
      `${logMinDurationStatementMs} must be -1 (off) or a number of milliseconds`,
    );
  }
  return [
    { name: "max_connections", value: String(maxConnections), applyMethod: "pending-reboot" },
    { name: "rds.force_ssl", value: "1", applyMethod: "immediate" },
    { name: "log_min_duration_statement", value: String(logMinDurationStatementMs), applyMethod: "immediate" },
    { name: "idle_in_transaction_session_timeout", value: "60000", applyMethod: "immediate" },
    { name: "autovacuum_max_workers", value: "3", applyMethod: "pending-reboot" },
    { name: "autovacuum_naptime", value: "15", applyMethod: "immediate" },
    { name: "autovacuum_vacuum_scale_factor", value: "0.05", applyMethod: "immediate" },
    { name: "autovacuum_analyze_scale_factor", value: "0.02", applyMethod: "immediate" },
    { name: "autovacuum_vacuum_cost_limit", value: "1000", applyMethod: "immediate" },
    { name: "log_autovacuum_min_duration", value: "1000", applyMethod: "immediate" },
  ];
}

export interface DatabaseArgs {
  /** Private subnets for the DB subnet group (Network.privateSubnetIds). Required. */
  subnetIds: pulumi.Input<pulumi.Input<string>[]>;
  /** Security group that admits 5432 from the nodes only (SecurityGroups.databaseSecurityGroupId). Required. */
  securityGroupId: pulumi.Input<string>;
  /**
   * `max_connections` set in the parameter group: the connection budget the lead computes
   * (Σ pool.max × pods during a rollout + migration Job + reserved). Required, 10..262143.
   */
  maxConnections: number;
  /**
   * Instance class, e.g. "db.t4g.micro" (dev) or "db.r7g.large" (prod).
   * @default "db.t4g.micro"
   */
  instanceClass?: string;
  /**
   * PostgreSQL version; its major picks the parameter group family (postgres16).
   * @default "16"
   */
  engineVersion?: string;
  /**
   * Initial gp3 storage, GiB (>= 20).
   * @default 20
   */
  allocatedStorage?: number;
  /**
   * Storage autoscaling ceiling, GiB (>= allocatedStorage). Equal to allocatedStorage turns autoscaling off.
   * @default 100
   */
  maxAllocatedStorage?: number;
  /**
   * Automated backup retention, days (0..35; 0 disables backups and point-in-time recovery).
   * @default 7
   */
  backupRetentionDays?: number;
  /**
   * Synchronous standby in another AZ with automatic failover.
   * @default false
   */
  multiAz?: boolean;
  /**
   * Refuse deletion (and keep a final snapshot when the instance is deleted anyway).
   * @default false
   */
  deletionProtection?: boolean;
  /**
   * Take a final snapshot on delete. Off is convenient for throwaway dev stacks only.
   * @default true
   */
  finalSnapshot?: boolean;
  /**
   * Statements slower than this are logged, ms (-1 = off). The seed's p95 target is 500 ms.
   * @default 500
   */
  logMinDurationStatementMs?: number;
  /**
   * Initial database name.
   * @default "uaip"
   */
  databaseName?: string;
  /**
   * Master user name.
   * @default "uaip"
   */
  masterUsername?: string;
  /**
   * Master password (pass a Pulumi secret). When omitted, RDS generates the password and keeps
   * it rotated in an AWS-managed Secrets Manager secret (`masterUserSecretArn`), so it never
   * enters Pulumi state.
   * @default undefined (AWS-managed secret)
   */
  masterPassword?: pulumi.Input<string>;
  /**
   * KMS key for storage, Performance Insights and the managed secret.
   * @default undefined (the account's AWS-managed aws/rds key)
   */
  kmsKeyArn?: pulumi.Input<string>;
  /**
   * Performance Insights (wait-event and top-SQL history).
   * @default true
   */
  performanceInsights?: boolean;
  /**
   * Performance Insights retention, days (7 is free; 31..731 in multiples of 31).
   * @default 7
   */
  performanceInsightsRetentionDays?: number;
  /**
   * Server CA certificate clients verify against.
   * @default "rds-ca-rsa2048-g1"
   */
  caCertIdentifier?: string;
  /**
   * Prefix of the physical names AWS wants unique per account and region (parameter group, log
   * group): pass the stack scope (stack-names.ts) so a second stack never collides.
   * @default the component name
   */
  physicalName?: string;
  /**
   * KMS key for the log groups RDS exports to (postgresql, upgrade): a customer-managed key (prod).
   * @default undefined (CloudWatch Logs' own encryption)
   */
  logKmsKeyArn?: pulumi.Input<string>;
  /**
   * Retention of those log groups, days.
   * @default 30
   */
  logRetentionDays?: number;
  /**
   * Read replicas (streaming, asynchronous) of the instance, 0..15: same class, parameter group
   * (max_connections: a hot standby needs at least the primary's), encryption and CA. Needs backups
   * (backupRetentionDays >= 1).
   * @default 0
   */
  readReplicas?: number;
  /**
   * Apply modifications now instead of in the next maintenance window.
   * @default false
   */
  applyImmediately?: boolean;
  /**
   * PostgreSQL port.
   * @default 5432
   */
  port?: number;
  /**
   * Extra tags; they override the defaults.
   * @default {}
   */
  tags?: Record<string, string>;
}

/** RDS PostgreSQL with an explicit max_connections, encrypted gp3 storage, in private subnets only. */
export class Database extends pulumi.ComponentResource {
  public readonly address: pulumi.Output<string>;
  public readonly port: pulumi.Output<number>;
  /** "host:port". */
  public readonly endpoint: pulumi.Output<string>;
  /** The `max_connections` the parameter group sets. */
  public readonly maxConnections: number;
  /** ARN of the AWS-managed master secret; undefined when `masterPassword` was given. */
  public readonly masterUserSecretArn: pulumi.Output<string | undefined>;
  public readonly parameterGroupName: pulumi.Output<string>;
  public readonly instanceIdentifier: pulumi.Output<string>;
  public readonly databaseName: string;
  public readonly masterUsername: string;
  /** Each read replica's host name, in order (a service's UAIP_DB_READ_HOST: readReplicaOf). */
  public readonly readReplicaAddresses: pulumi.Output<string>[];

  constructor(name: string, args: DatabaseArgs, opts: pulumi.ComponentResourceOptions = {}) {
    super("uaip:aws:Database", name, {}, opts);
    const tags = mergeTags(args.tags);
    const engineVersion = args.engineVersion ?? "16";
    const family = postgresFamily(engineVersion);
    const allocatedStorage = args.allocatedStorage ?? 20;
    const maxAllocatedStorage = args.maxAllocatedStorage ?? 100;
    if (!Number.isInteger(allocatedStorage) || allocatedStorage < 20) {
      throw new ComponentArgsError("DatabaseArgs.allocatedStorage", `${allocatedStorage} GiB is below the gp3 minimum of 20 GiB`);
    }
    if (maxAllocatedStorage < allocatedStorage) {
      throw new ComponentArgsError(
        "DatabaseArgs.maxAllocatedStorage",
        `${maxAllocatedStorage} GiB is below allocatedStorage ${allocatedStorage} GiB; raise it (or set it equal to turn autoscaling off)`,
      );
    }
    const backupRetentionDays = args.backupRetentionDays ?? 7;
    if (!Number.isInteger(backupRetentionDays) || backupRetentionDays < 0 || backupRetentionDays > 35) {
      throw new ComponentArgsError("DatabaseArgs.backupRetentionDays", `${backupRetentionDays} must be 0..35 days`);
    }
    const readReplicas = readReplicaCount(args.readReplicas ?? 0, backupRetentionDays);
    const parameters = postgresParameters({
      maxConnections: args.maxConnections,
      logMinDurationStatementMs: args.logMinDurationStatementMs ?? 500,
    });
    const deletionProtection = args.deletionProtection ?? false;
    const finalSnapshot = args.finalSnapshot ?? true;
    const parent = { parent: this };
    const physicalName = args.physicalName ?? name;
    // Kept in state: the same instance keeps its final snapshot name; a replacement gets a new one.
    const snapshotSuffix = finalSnapshot ? new random.RandomId(`${name}-final-snapshot`, { byteLength: 4 }, parent) : undefined;

    const subnetGroup = new aws.rds.SubnetGroup(
      `${name}-subnets`,
      { subnetIds: args.subnetIds, description: `${name}: private subnets only`, tags },
      parent,
    );
    // Family in the physical name: see profile/naming.ts (a family change replaces the group without a name clash).
    const parameterGroup = new aws.rds.ParameterGroup(
      `${name}-params`,
      {
        name: familyScopedName(physicalName, family),
        family,
        description: `${name} ${family}: explicit max_connections, force_ssl, autovacuum`,
        parameters,
        tags,
      },
      parent,
    );

    // The identifier is explicit (stack-scoped) so the log groups RDS exports to can exist first,
    // with retention and (prod) a customer-managed key; RDS would otherwise create them bare.
    const identifier = physicalName;
    const logGroupsOf = (id: string, prefix: string) =>
      DB_LOG_EXPORTS.map(
        (log) =>
          new aws.cloudwatch.LogGroup(
            `${prefix}-${log}-log`,
            {
              name: `/aws/rds/instance/${id}/${log}`,
              retentionInDays: args.logRetentionDays ?? 30,
              ...(args.logKmsKeyArn ? { kmsKeyId: args.logKmsKeyArn } : {}),
              tags,
            },
            parent,
          ),
      );
    const logGroups = logGroupsOf(identifier, name);
    const instance = new aws.rds.Instance(
      `${name}-instance`,
      {
        identifier,
        engine: "postgres",
        engineVersion,
        instanceClass: args.instanceClass ?? "db.t4g.micro",
        dbName: args.databaseName ?? "uaip",
        username: args.masterUsername ?? "uaip",
        ...(args.masterPassword !== undefined
          ? { password: pulumi.secret(args.masterPassword) }
          : { manageMasterUserPassword: true, ...(args.kmsKeyArn ? { masterUserSecretKmsKeyId: args.kmsKeyArn } : {}) }),
        port: args.port ?? 5432,
        storageType: "gp3",
        allocatedStorage,
        // RDS reads 0 as "no storage autoscaling"; equal bounds mean the same.
        maxAllocatedStorage: maxAllocatedStorage > allocatedStorage ? maxAllocatedStorage : 0,
        storageEncrypted: true,
        ...(args.kmsKeyArn ? { kmsKeyId: args.kmsKeyArn, performanceInsightsKmsKeyId: args.kmsKeyArn } : {}),
        dbSubnetGroupName: subnetGroup.name,
        vpcSecurityGroupIds: [args.securityGroupId],
        publiclyAccessible: false,
        parameterGroupName: parameterGroup.name,
        caCertIdentifier: args.caCertIdentifier ?? "rds-ca-rsa2048-g1",
        multiAz: args.multiAz ?? false,
        deletionProtection,
        backupRetentionPeriod: backupRetentionDays,
        copyTagsToSnapshot: true,
        skipFinalSnapshot: !finalSnapshot,
        // Stack-scoped and unique per instance: a fixed name would clash with the previous final snapshot.
        ...(finalSnapshot ? { finalSnapshotIdentifier: pulumi.interpolate`${physicalName}-final-${snapshotSuffix!.hex}` } : {}),
        performanceInsightsEnabled: args.performanceInsights ?? true,
        ...((args.performanceInsights ?? true)
          ? { performanceInsightsRetentionPeriod: args.performanceInsightsRetentionDays ?? 7 }
          : {}),
        enabledCloudwatchLogsExports: [...DB_LOG_EXPORTS],
        autoMinorVersionUpgrade: true,
        applyImmediately: args.applyImmediately ?? false,
        tags,
      },
      // A fixed identifier cannot be created before the old one is gone; deletion protection (prod)
      // still blocks the delete, and the final snapshot keeps the data.
      { parent: this, dependsOn: logGroups, deleteBeforeReplace: true },
    );

    // Replicas inherit engine version, storage and its encryption from the source; the rest is set the
    // same way as the primary's, so a replica is as private, encrypted and verifiable as the writer.
    const replicas = Array.from({ length: readReplicas }, (_, i) => {
      const replicaId = `${physicalName}-replica-${i + 1}`;
      return new aws.rds.Instance(
        `${name}-replica-${i + 1}`,
        {
          identifier: replicaId,
          replicateSourceDb: instance.identifier,
          // The source's major, pinned the same way (a replica runs the source's version; minors follow it).
          engine: "postgres",
          engineVersion,
          instanceClass: args.instanceClass ?? "db.t4g.micro",
          storageType: "gp3",
          storageEncrypted: true,
          ...(args.kmsKeyArn ? { kmsKeyId: args.kmsKeyArn, performanceInsightsKmsKeyId: args.kmsKeyArn } : {}),
          vpcSecurityGroupIds: [args.securityGroupId],
          publiclyAccessible: false,
          parameterGroupName: parameterGroup.name,
          caCertIdentifier: args.caCertIdentifier ?? "rds-ca-rsa2048-g1",
          port: args.port ?? 5432,
          // A replica keeps no backups and no final snapshot of its own: the primary's are the data.
          backupRetentionPeriod: 0,
          skipFinalSnapshot: true,
          deletionProtection,
          performanceInsightsEnabled: args.performanceInsights ?? true,
          ...((args.performanceInsights ?? true)
            ? { performanceInsightsRetentionPeriod: args.performanceInsightsRetentionDays ?? 7 }
            : {}),
          enabledCloudwatchLogsExports: [...DB_LOG_EXPORTS],
          autoMinorVersionUpgrade: true,
          applyImmediately: args.applyImmediately ?? false,
          tags: { ...tags, role: "read-replica" },
        },
        { parent: this, dependsOn: logGroupsOf(replicaId, `${name}-replica-${i + 1}`), deleteBeforeReplace: true },
      );
    });

    this.readReplicaAddresses = replicas.map((r) => r.address);
    this.address = instance.address;
    this.port = instance.port;
    this.endpoint = instance.endpoint;
    this.maxConnections = args.maxConnections;
    this.masterUserSecretArn =
      args.masterPassword !== undefined ? pulumi.output(undefined) : instance.masterUserSecrets.apply((s) => s?.[0]?.secretArn);
    this.parameterGroupName = parameterGroup.name;
    this.instanceIdentifier = instance.identifier;
    this.databaseName = args.databaseName ?? "uaip";
    this.masterUsername = args.masterUsername ?? "uaip";
    this.registerOutputs({
      address: this.address,
      port: this.port,
      endpoint: this.endpoint,
      maxConnections: this.maxConnections,
      masterUserSecretArn: this.masterUserSecretArn,
      parameterGroupName: this.parameterGroupName,
      readReplicaAddresses: this.readReplicaAddresses,
    });
  }
}
