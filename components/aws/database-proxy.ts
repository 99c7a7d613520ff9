import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { ComponentArgsError } from "../../profile/errors";
import { mergeTags } from "../../profile/tags";
import { policyDocument, serviceAssumeRolePolicy, type PolicyDocument } from "./iam";
import limits from "../../vendor/aws/data-tier-limits.json";

/** RDS Proxy's target group pool settings (ConnectionPoolConfigurationInfo). */
export interface ProxyPoolSettings {
  /** Percent of max_connections the proxy may open, 1..100. */
  maxConnectionsPercent: number;
  /** Percent of max_connections kept idle, 0..maxConnectionsPercent. */
  maxIdleConnectionsPercent: number;
  /** Seconds a client waits for a server connection, 0..3600. */
  connectionBorrowTimeout: number;
}

const RANGES = limits.rdsProxy;

/** The pool settings within the RDS API's ranges (vendor/aws/data-tier-limits.json), each wrong one named with its range. */
export function validateProxyPool(pool: ProxyPoolSettings, idleClientTimeout: number): ProxyPoolSettings {
  const within = (key: string, value: number, min: number, max: number) => {
    if (!Number.isInteger(value) || value < min || value > max)
      throw new ComponentArgsError(`DatabaseProxyArgs.${key}`, `${value} must be an integer from ${min} to ${max}`);
  };
  within("maxConnectionsPercent", pool.maxConnectionsPercent, RANGES.maxConnectionsPercent.min, RANGES.maxConnectionsPercent.max);
  within(
    "maxIdleConnectionsPercent",
    pool.maxIdleConnectionsPercent,
    RANGES.maxIdleConnectionsPercent.min,
    pool.maxConnectionsPercent,
  );
  within(
    "connectionBorrowTimeout",
    pool.connectionBorrowTimeout,
    RANGES.connectionBorrowTimeout.min,
    RANGES.connectionBorrowTimeout.max,
  );
  within("idleClientTimeout", idleClientTimeout, RANGES.idleClientTimeout.min, RANGES.idleClientTimeout.max);
  return pool;
}

/** The proxy's role may read exactly its own secrets, nothing else. */
export function proxySecretsPolicy(secretArns: readonly string[]): PolicyDocument {
  return policyDocument([
    { Sid: "ReadOwnSecrets", Effect: "Allow", Action: ["secretsmanager:GetSecretValue"], Resource: [...secretArns] },
  ]);
}

export interface DatabaseProxyArgs {
  vpcId: pulumi.Input<string>;
  /** Private subnets (Network.privateSubnetIds). Required. */
  subnetIds: pulumi.Input<pulumi.Input<string>[]>;
  /** The nodes' security group: the only source the proxy admits. Required. */
  nodeSecurityGroupId: pulumi.Input<string>;
  /** The database's security group: the proxy gets an ingress rule there, on the database port only. Required. */
  databaseSecurityGroupId: pulumi.Input<string>;
  /** The instance the proxy fronts (RDS Proxy targets the writer only, never a read replica). Required. */
  instanceIdentifier: pulumi.Input<string>;
  /** The database roles that log in through the proxy (one Secrets Manager secret each, at most 200). Required. */
  roles: readonly string[];
  /** The proxy's name: 1..63 letters, digits and hyphens, unique per account and region (stack-scoped). Required. */
  proxyName: string;
  /** Target group pool settings. Required. */
  pool: ProxyPoolSettings;
  /**
   * Seconds an idle client connection stays open, 1..28800.
   * @default 1800
   */
  idleClientTimeout?: number;
  /**
   * PostgreSQL port.
   * @default 5432
   */
  port?: number;
  /**
   * KMS key of the role secrets.
   * @default undefined (Secrets Manager's AWS-managed key)
   */
  kmsKeyArn?: pulumi.Input<string>;
  /** @default {} */
  tags?: Record<string, string>;
}

/**
 * RDS Proxy in front of the PostgreSQL instance: TLS required from the clients, each service role's
 * password in its own Secrets Manager secret (the proxy logs in with it, SCRAM-SHA-256 from the
 * clients), a role that reads those secrets only, and a security group admitting the nodes only.
 *
 * The role passwords exist only once the migration Job's component has generated them, while the
 * services need the proxy's endpoint first: the secrets are created here and their values set by
 * `attachCredentials` once the passwords exist (the proxy reads a secret when a client logs in).
 */
export class DatabaseProxy extends pulumi.ComponentResource {
  public readonly endpoint: pulumi.Output<string>;
  public readonly proxyArn: pulumi.Output<string>;
  public readonly securityGroupId: pulumi.Output<string>;
  readonly #secrets: Record<string, aws.secretsmanager.Secret>;
  readonly #name: string;

  constructor(name: string, args: DatabaseProxyArgs, opts: pulumi.ComponentResourceOptions = {}) {
    super("uaip:aws:DatabaseProxy", name, {}, opts);
    const tags = mergeTags(args.tags);
    const idleClientTimeout = args.idleClientTimeout ?? 1800;
    const pool = validateProxyPool(args.pool, idleClientTimeout);
    if (!/^[a-zA-Z](?!.*--)[a-zA-Z0-9-]{0,62}$/.test(args.proxyName) || args.proxyName.endsWith("-"))
      throw new ComponentArgsError(
        "DatabaseProxyArgs.proxyName",
        `"${args.proxyName}" must be 1..63 letters, digits or hyphens, start with a letter, without "--" or a trailing "-"`,
      );
    if (args.roles.length < 1 || args.roles.length > RANGES.secretsPerProxy)
      throw new ComponentArgsError(
        "DatabaseProxyArgs.roles",
        `${args.roles.length} roles: a proxy takes 1..${RANGES.secretsPerProxy} secrets`,
      );
    const parent = { parent: this };
    const port = args.port ?? 5432;
    this.#name = name;

    const sg = new aws.ec2.SecurityGroup(
      `${name}-sg`,
      {
        vpcId: args.vpcId,
        description: "RDS Proxy: PostgreSQL from the nodes only",
        revokeRulesOnDelete: true,
        tags: { ...tags, Name: `${name}-sg` },
      },
      parent,
    );
    const rule = { ipProtocol: "tcp", fromPort: port, toPort: port, tags };
    new aws.vpc.SecurityGroupIngressRule(
      `${name}-from-nodes`,
      {
        ...rule,
        securityGroupId: sg.id,
        referencedSecurityGroupId: args.nodeSecurityGroupId,
        description: "PostgreSQL from the nodes",
      },
      parent,
    );
    new aws.vpc.SecurityGroupEgressRule(
      `${name}-to-database`,
      {
        ...rule,
        securityGroupId: sg.id,
        referencedSecurityGroupId: args.databaseSecurityGroupId,
        description: "to the database",
      },
      parent,
    );
    new aws.vpc.SecurityGroupIngressRule(
      `${name}-database-from-proxy`,
      {
        ...rule,
        securityGroupId: args.databaseSecurityGroupId,
        referencedSecurityGroupId: sg.id,
        description: "PostgreSQL from RDS Proxy",
      },
      parent,
    );

    this.#secrets = Object.fromEntries(
      args.roles.map((role) => [
        role,
        new aws.secretsmanager.Secret(
          `${name}-${role.replaceAll("_", "-")}-secret`,
          {
            description: `${name}: password of database role ${role}, read by RDS Proxy`,
            ...(args.kmsKeyArn ? { kmsKeyId: args.kmsKeyArn } : {}),
            tags,
          },
          parent,
        ),
      ]),
    );
    const secretArns = args.roles.map((r) => this.#secrets[r]!.arn);
    const role = new aws.iam.Role(
      `${name}-role`,
      { assumeRolePolicy: JSON.stringify(serviceAssumeRolePolicy("rds.amazonaws.com")), tags },
      parent,
    );
    new aws.iam.RolePolicy(
      `${name}-secrets`,
      { role: role.id, policy: pulumi.all(secretArns).apply((arns) => JSON.stringify(proxySecretsPolicy(arns))) },
      parent,
    );

    const proxy = new aws.rds.Proxy(
      `${name}-proxy`,
      {
        name: args.proxyName,
        engineFamily: "POSTGRESQL",
        requireTls: true,
        idleClientTimeout,
        // Debug logging writes SQL text (and so any literal in it) to CloudWatch: off.
        debugLogging: false,
        roleArn: role.arn,
        vpcSubnetIds: args.subnetIds,
        vpcSecurityGroupIds: [sg.id],
        auths: args.roles.map((r) => ({
          authScheme: "SECRETS",
          iamAuth: "DISABLED",
          clientPasswordAuthType: "POSTGRES_SCRAM_SHA_256",
          secretArn: this.#secrets[r]!.arn,
          description: `database role ${r}`,
        })),
        tags,
      },
      parent,
    );
    const targetGroup = new aws.rds.ProxyDefaultTargetGroup(
      `${name}-target-group`,
      {
        dbProxyName: proxy.name,
        connectionPoolConfig: {
          maxConnectionsPercent: pool.maxConnectionsPercent,
          maxIdleConnectionsPercent: pool.maxIdleConnectionsPercent,
          connectionBorrowTimeout: pool.connectionBorrowTimeout,
        },
      },
      parent,
    );
    new aws.rds.ProxyTarget(
      `${name}-target`,
      { dbProxyName: proxy.name, targetGroupName: targetGroup.name, dbInstanceIdentifier: args.instanceIdentifier },
      parent,
    );

    this.endpoint = proxy.endpoint;
    this.proxyArn = proxy.arn;
    this.securityGroupId = sg.id;
    this.registerOutputs({ endpoint: this.endpoint, proxyArn: this.proxyArn, securityGroupId: this.securityGroupId });
  }

  /** Sets each role's secret to `{ username, password }` (the passwords the migration Job gives the roles). */
  attachCredentials(passwords: Record<string, pulumi.Input<string>>): void {
    const missing = Object.keys(this.#secrets).filter((role) => passwords[role] === undefined);
    if (missing.length)
      throw new ComponentArgsError("DatabaseProxy.attachCredentials", `no password for role(s) ${missing.join(", ")}`);
    for (const [role, secret] of Object.entries(this.#secrets)) {
      new aws.secretsmanager.SecretVersion(
        `${this.#name}-${role.replaceAll("_", "-")}-secret-value`,
        {
          secretId: secret.id,
          secretString: pulumi.secret(
            pulumi.output(passwords[role]!).apply((password) => JSON.stringify({ username: role, password })),
          ),
        },
        { parent: this },
      );
    }
  }
}
