import * as pulumi from "@pulumi/pulumi";
import * as random from "@pulumi/random";
import { assertAwsArgs } from "./arg-issues";
import { Cdn } from "./cdn";
import { Cluster } from "./cluster";
import { Database } from "./database";
import { LoadBalancer } from "./load-balancer";
import { Monitoring } from "../k8s/monitoring";
import { Network } from "./network";
import type { Profile } from "../../profile/schema";
import type { ServicePlan } from "../../profile/service-settings";
import { Redis } from "./redis";
import { SecurityGroups } from "./security-groups";
import { RDS_CA_FILE } from "../k8s/db-migration";
import { Services } from "../k8s/services";
import { ClusterStorage } from "./storage";

export interface AwsPlatformArgs {
  /** The parsed, checked performance profile of the stack. */
  profile: Profile;
  /** What each service gets and the connection budget: servicePlan(profile), computed once by the caller. */
  plan: ServicePlan;
  /** AWS region (origin shield, the LB controller). */
  region: string;
  /** Grafana admin password; a random one is generated when unset. @default generated */
  grafanaAdminPassword?: pulumi.Input<string>;
  /** Alertmanager webhook URL. @default none: alerts go to the null receiver */
  alertWebhookUrl?: pulumi.Input<string>;
}

/** Random credential kept in state as a secret; letters and digits only, valid for ElastiCache AUTH and RDS. */
function generatedSecret(name: string, parent: pulumi.Resource): pulumi.Output<string> {
  return new random.RandomPassword(name, { length: 40, special: false }, { parent }).result;
}

/**
 * The whole platform on AWS, wired from one profile: the network, the EKS cluster, the ALB and
 * CloudFront in front of the services, Redis and PostgreSQL behind them, the services
 * themselves and their monitoring. Each piece is its own component; this one only connects
 * outputs to args.
 */
export class AwsPlatform extends pulumi.ComponentResource {
  public readonly albDnsName: pulumi.Output<string>;
  public readonly cdnDomainName?: pulumi.Output<string>;
  public readonly cdnDistributionId?: pulumi.Output<string>;
  public readonly redisPrimaryEndpoint: pulumi.Output<string>;
  public readonly databaseEndpoint: pulumi.Output<string>;
  public readonly databaseMaxConnections: number;
  public readonly clusterName: pulumi.Output<string>;
  public readonly kubeconfig: pulumi.Output<string>;
  public readonly grafanaNamespace: pulumi.Output<string>;

  constructor(name: string, args: AwsPlatformArgs, opts: pulumi.ComponentResourceOptions = {}) {
    super("uaip:aws:AwsPlatform", name, {}, opts);
    const { profile: p } = args;
    // Every wrong key at once, named as the stack file names it, before any resource is created.
    assertAwsArgs(p, args.plan);
    const child = { parent: this };
    const tags = { ...p.tags, environment: p.environment };
    // An explicit name (EKS has no auto-naming): one cluster per environment and account.
    const clusterName = `${name}-${p.environment}`;

    const network = new Network(`${name}-network`, { cidrBlock: p.network.cidr, azCount: p.network.azCount, natGateways: p.network.natGateways, flowLogs: p.network.flowLogs, clusterName, tags }, child);
    const sgs = new SecurityGroups(`${name}-sg`, { vpcId: network.vpcId, servicePorts: p.services.map((s) => s.port), tags }, child);

    const lb = new LoadBalancer(
      `${name}-alb`,
      {
        vpcId: network.vpcId,
        subnetIds: network.publicSubnetIds,
        securityGroupId: sgs.albSecurityGroupId,
        services: p.services.map((s) => ({ name: s.name, port: s.port })),
        idleTimeoutSeconds: p.loadBalancer.idleTimeout,
        certificateArn: p.loadBalancer.certificateArn || undefined,
        deregistrationDelaySeconds: p.loadBalancer.deregistrationDelay,
        accessLogs: p.loadBalancer.accessLogs,
        deletionProtection: p.loadBalancer.deletionProtection,
        tags,
      },
      child,
    );

    const cdn = p.cdn.enabled
      ? new Cdn(
          `${name}-cdn`,
          {
            // With a certificate the origin must be reached by a name the certificate covers.
            originDomainName: p.loadBalancer.domainName || lb.dnsName,
            originUsesHttps: Boolean(p.loadBalancer.certificateArn),
            servicePrefixes: p.services.map((s) => s.name),
            apiTtl: p.cdn.apiTtl,
            staticTtl: p.cdn.staticTtl,
            priceClass: p.cdn.priceClass,
            originShieldRegion: p.cdn.originShield ? args.region : undefined,
            tags,
          },
          child,
        )
      : undefined;

    const redis = new Redis(
      `${name}-redis`,
      {
        subnetIds: network.privateSubnetIds,
        securityGroupId: sgs.redisSecurityGroupId,
        engineVersion: p.redis.engineVersion,
        nodeType: p.redis.nodeType,
        replicas: p.redis.replicas,
        multiAz: p.redis.multiAz,
        maxmemoryPolicy: p.redis.maxmemoryPolicy,
        slowLogs: p.redis.slowLogs,
        tags,
      },
      child,
    );

    const databasePassword = generatedSecret(`${name}-db-password`, this);
    const db = new Database(
      `${name}-db`,
      {
        subnetIds: network.privateSubnetIds,
        securityGroupId: sgs.databaseSecurityGroupId,
        maxConnections: args.plan.budget.maxConnections,
        instanceClass: p.database.instanceClass,
        engineVersion: p.database.engineVersion,
        allocatedStorage: p.database.allocatedStorage,
        maxAllocatedStorage: p.database.maxAllocatedStorage,
        backupRetentionDays: p.database.backupRetentionDays,
        multiAz: p.database.multiAz,
        deletionProtection: p.database.deletionProtection,
        logMinDurationStatementMs: p.database.logMinDurationMs,
        databaseName: p.database.name,
        masterUsername: p.database.username,
        // Our own secret (not the AWS-managed one) so the migration Job's Secret can carry it.
        masterPassword: databasePassword,
        tags,
      },
      child,
    );

    const cluster = new Cluster(
      `${name}-cluster`,
      {
        clusterName,
        subnetIds: network.privateSubnetIds,
        nodeSecurityGroupId: sgs.nodeSecurityGroupId,
        version: p.cluster.version,
        instanceTypes: p.cluster.instanceTypes,
        nodes: p.cluster.nodes,
        endpointPublicAccess: p.cluster.endpointPublicAccess,
        publicAccessCidrs: p.cluster.publicAccessCidrs,
        tags,
      },
      child,
    );
    const onCluster = { parent: this, providers: { kubernetes: cluster.provider } };
    const storage = new ClusterStorage(`${name}-storage`, { clusterName: cluster.clusterName, oidcProviderArn: cluster.oidcProviderArn, oidcIssuerUrl: cluster.oidcIssuerUrl, tags }, onCluster);

    const services = new Services(
      `${name}-services`,
      {
        environment: p.environment,
        services: args.plan.services,
        cluster: { name: cluster.clusterName, oidcProviderArn: cluster.oidcProviderArn, oidcIssuerUrl: cluster.oidcIssuerUrl },
        vpcId: network.vpcId,
        region: args.region,
        targetGroupArns: lb.targetGroupArns,
        deregistrationDelaySeconds: p.loadBalancer.deregistrationDelay,
        endpoints: pulumi.all([redis.primaryEndpoint, redis.port, db.address, db.port, cdn?.distributionId ?? ""]).apply(([redisHost, redisPort, dbHost, dbPort, cdnDistributionId]) => ({
          redisHost,
          redisPort,
          // In-transit encryption is always on for ElastiCache and RDS (see redis.ts, database.ts).
          redisTls: true,
          dbHost,
          dbPort,
          dbName: p.database.name,
          dbUser: p.database.username,
          dbSsl: true,
          dbSslCaFile: RDS_CA_FILE,
          dbStatsRefreshIntervalMs: p.database.statsRefreshInterval,
          cdnDistributionId,
        })),
        credentials: { redisAuthToken: redis.authToken, databaseMasterPassword: databasePassword },
        tags,
      },
      onCluster,
    );

    const monitoring = new Monitoring(
      `${name}-monitoring`,
      {
        services: p.services.map((s) => ({ name: s.name, port: s.port })),
        servicesNamespace: services.namespace,
        scrapeInterval: p.monitoring.scrapeInterval,
        slo: p.monitoring.slo,
        heapThreshold: p.runtime.memory.memoryMonitoring.threshold,
        retention: p.monitoring.retention,
        storageSize: p.monitoring.storageSize,
        storageClassName: storage.storageClassName,
        replicas: p.monitoring.replicas,
        grafanaAdminPassword: args.grafanaAdminPassword ?? generatedSecret(`${name}-grafana-admin`, this),
        alertWebhookUrl: args.alertWebhookUrl,
      },
      { ...onCluster, dependsOn: [storage] },
    );

    this.albDnsName = lb.dnsName;
    this.cdnDomainName = cdn?.domainName;
    this.cdnDistributionId = cdn?.distributionId;
    this.redisPrimaryEndpoint = redis.primaryEndpoint;
    this.databaseEndpoint = db.endpoint;
    this.databaseMaxConnections = db.maxConnections;
    this.clusterName = cluster.clusterName;
    this.kubeconfig = pulumi.secret(cluster.kubeconfig);
    this.grafanaNamespace = monitoring.namespace;
    this.registerOutputs({
      albDnsName: this.albDnsName,
      cdnDomainName: this.cdnDomainName,
      cdnDistributionId: this.cdnDistributionId,
      redisPrimaryEndpoint: this.redisPrimaryEndpoint,
      databaseEndpoint: this.databaseEndpoint,
      databaseMaxConnections: this.databaseMaxConnections,
      clusterName: this.clusterName,
      kubeconfig: this.kubeconfig,
      grafanaNamespace: this.grafanaNamespace,
    });
  }
}
