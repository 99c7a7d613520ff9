import * as pulumi from "@pulumi/pulumi";
import * as random from "@pulumi/random";
import { awsArgIssues } from "./arg-issues";
import { Cdn } from "./cdn";
import { Cluster } from "./cluster";
import { Database } from "./database";
import { DatabaseProxy } from "./database-proxy";
import { serviceDbRole } from "../k8s/db-migration";
import { instanceMaxConnections } from "../../profile/proxy-budget";
import { imagePlatformFor } from "../k8s/image-platform";
import { waitForNodes } from "../k8s/wait-for-nodes";
import { LoadBalancer } from "./load-balancer";
import { metricsServerAddon } from "./metrics-server";
import { Monitoring } from "../k8s/monitoring";
import { Network } from "./network";
import type { Profile } from "../../profile/schema";
import type { ServicePlan } from "../../profile/service-settings";
import { Redis } from "./redis";
import { SecurityGroups } from "./security-groups";
import { RDS_CA_FILE } from "../k8s/rds-ca";
import { Services } from "../k8s/services";
import { ClusterStorage } from "./storage";
import { planSubnets } from "./subnets";
import { vpcCniAddon } from "./vpc-cni";
import * as aws from "@pulumi/aws";
import { logsKmsKeyPolicy } from "./iam";
import { loadBalancerName, stackScope } from "../../profile/stack-names";
import { ProfileError } from "../../profile/errors";
import { awsRegionIssues } from "../../profile/aws-rules";
import { certificateIssue, exampleCertificateIssues } from "../../profile/provider-rules";
import { versionSupportIssues } from "../../profile/support-calendar";
import { ciDeployIssues, ciRunnerProjectName, exampleCiIssues } from "../../profile/ci-deploys";
import { CiRunner } from "./ci-runner";
import { originShieldIssue, originShieldRegionFor } from "../../profile/origin-shield";

/** Header CloudFront adds to origin requests and the ALB's listener rules require (its value is a generated secret). */
export const ORIGIN_VERIFY_HEADER = "X-Origin-Verify";

export interface AwsPlatformArgs {
  /** The parsed, checked performance profile of the stack. */
  profile: Profile;
  /** What each service gets and the connection budget: servicePlan(profile), computed once by the caller. */
  plan: ServicePlan;
  /** AWS region (origin shield, the LB controller, in-pod AWS clients). */
  region: string;
  /** Pulumi project and stack: the scope of every physical name AWS wants unique (stack-names.ts). */
  project: string;
  stack: string;
  /** Grafana admin password; a random one is generated when unset. @default generated */
  grafanaAdminPassword?: pulumi.Input<string>;
  /** Alertmanager webhook URL. @default none: alerts go to the null receiver */
  alertWebhookUrl?: pulumi.Input<string>;
  /**
   * What the stack files' example certificate values do (exampleCertificateIssues): "refuse" stops
   * the program before any resource is created, as `pulumi preview` and `pulumi up` must; "warn"
   * only logs them, for the offline plan, which runs every stack file as cloned. @default "refuse"
   */
  exampleCertificate?: "refuse" | "warn";
  /** The day the engine versions are checked against their support calendars (support-calendar.ts). @default now */
  today?: Date;
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
  /** The in-VPC CI runner's CodeBuild project (workflows: `runs-on: codebuild-<it>-…`); absent unless ci.deploys.enabled. */
  public readonly ciRunnerProject?: pulumi.Output<string>;

  constructor(name: string, args: AwsPlatformArgs, opts: pulumi.ComponentResourceOptions = {}) {
    super("uaip:aws:AwsPlatform", name, {}, opts);
    const { profile: p } = args;
    // Every wrong key at once, named as the stack file names it, before any resource is created:
    // the components' own arg checks and prod's certificate (checked here, not in parseConfig, which
    // also parses presets for tests and docs).
    const issues = awsArgIssues(p, args.plan);
    // What depends on the region and on the day: the region exists, the certificate is in it, versions in support
    // (one issue per key: a version an arg check already refuses is not reported twice).
    for (const issue of [...awsRegionIssues(p, args.region), ...versionSupportIssues(p, args.today ?? new Date())])
      if (!issues.some((i) => i.path === issue.path)) issues.push(issue);
    const noCertificate = certificateIssue(p);
    if (noCertificate) issues.push(noCertificate);
    issues.push(...ciDeployIssues(p, args.region));
    const shieldIssue = originShieldIssue(p.cdn.enabled && p.cdn.originShield, args.region);
    if (shieldIssue) issues.push(shieldIssue);
    const examples = [...exampleCertificateIssues(p), ...exampleCiIssues(p)];
    if ((args.exampleCertificate ?? "refuse") === "refuse") issues.push(...examples);
    else for (const i of examples) pulumi.log.warn(`${i.path}: ${i.message} (pulumi preview and up refuse it)`, this);
    if (issues.length) throw new ProfileError(issues);
    const child = { parent: this };
    const tags = { ...p.tags, environment: p.environment };
    // Physical names AWS wants unique per account and region carry the stack: "uaip-dev", "uaip-staging".
    const scope = stackScope(args.project, args.stack);
    const clusterName = scope;
    const hasCertificate = Boolean(p.loadBalancer.certificateArn);
    // CloudFront proves itself to the ALB with this secret header; the ALB routes nothing without it.
    // Marked secret here too: it lands in listener rule and distribution inputs, which must never show it.
    const originSecret = p.cdn.enabled ? pulumi.secret(generatedSecret(`${name}-origin-verify`, this)) : undefined;
    const logKey = p.logs.customerManagedKey ? this.#logsKey(name, tags) : undefined;

    const network = new Network(
      `${name}-network`,
      {
        cidrBlock: p.network.cidr,
        azCount: p.network.azCount,
        natGateways: p.network.natGateways,
        flowLogs: p.network.flowLogs,
        clusterName,
        physicalName: `${scope}-network`,
        tags,
      },
      child,
    );
    const sgs = new SecurityGroups(
      `${name}-sg`,
      // With the CDN on, only CloudFront may reach the ALB, on the one port it uses.
      {
        vpcId: network.vpcId,
        servicePorts: p.services.map((s) => s.port),
        cloudfrontOnlyPort: p.cdn.enabled ? (hasCertificate ? 443 : 80) : undefined,
        tags,
      },
      child,
    );

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
        loadBalancerName: loadBalancerName(args.project, args.stack),
        nameScope: scope,
        originVerifyHeader: originSecret ? { name: ORIGIN_VERIFY_HEADER, value: originSecret } : undefined,
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
            staticPaths: p.cdn.staticPaths,
            priceClass: p.cdn.priceClass,
            // AWS's mapping: Origin Shield exists in some Regions only (profile/origin-shield.ts).
            originShieldRegion: p.cdn.originShield ? originShieldRegionFor(args.region) : undefined,
            originCustomHeaders: originSecret ? [{ name: ORIGIN_VERIFY_HEADER, value: originSecret }] : [],
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
        engine: p.redis.engine,
        engineVersion: p.redis.engineVersion,
        nodeType: p.redis.nodeType,
        replicas: p.redis.replicas,
        mode: p.redis.mode,
        shards: p.redis.shards,
        replicasPerShard: p.redis.replicasPerShard,
        serverless: p.redis.serverless,
        multiAz: p.redis.multiAz,
        maxmemoryPolicy: p.redis.maxmemoryPolicy,
        slowLogs: p.redis.slowLogs,
        snapshotRetentionDays: p.redis.snapshotRetentionDays,
        physicalName: `${scope}-redis`,
        logKmsKeyArn: logKey,
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
        // With RDS Proxy or read replicas, what they need (proxy-budget.ts); else the direct budget's.
        maxConnections: instanceMaxConnections(p, args.plan.budget),
        readReplicas: p.database.readReplicas,
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
        physicalName: `${scope}-db`,
        logKmsKeyArn: logKey,
        tags,
      },
      child,
    );

    // RDS Proxy in front of the writer: the services connect through it, the migration Job directly.
    const proxy = p.database.proxy
      ? new DatabaseProxy(
          `${name}-db-proxy`,
          {
            vpcId: network.vpcId,
            subnetIds: network.privateSubnetIds,
            nodeSecurityGroupId: sgs.nodeSecurityGroupId,
            databaseSecurityGroupId: sgs.databaseSecurityGroupId,
            instanceIdentifier: db.instanceIdentifier,
            roles: p.services.map((s) => serviceDbRole(s.name)),
            proxyName: `${scope}-db-proxy`,
            pool: p.database.proxy,
            idleClientTimeout: p.database.proxy.idleClientTimeout,
            tags,
          },
          child,
        )
      : undefined;

    const cluster = new Cluster(
      `${name}-cluster`,
      {
        clusterName,
        subnetIds: network.privateSubnetIds,
        nodeSecurityGroupId: sgs.nodeSecurityGroupId,
        version: p.cluster.version,
        supportType: p.cluster.extendedSupport ? "EXTENDED" : "STANDARD",
        instanceTypes: p.cluster.instanceTypes,
        nodes: p.cluster.nodes,
        endpointPublicAccess: p.cluster.endpointPublicAccess,
        publicAccessCidrs: p.cluster.publicAccessCidrs,
        adminRoleArns: p.cluster.adminRoleArns,
        logKmsKeyArn: logKey,
        tags,
      },
      child,
    );
    // CI's way to the private API endpoint: a runner in the VPC, outside the cluster it deploys.
    const ci = p.ci.deploys.enabled
      ? new CiRunner(
          `${name}-ci`,
          {
            projectName: ciRunnerProjectName(args.project, args.stack),
            githubRepo: p.ci.deploys.githubRepo,
            connectionArn: p.ci.deploys.connectionArn,
            vpcId: network.vpcId,
            subnetIds: network.privateSubnetIds,
            clusterSecurityGroupId: cluster.clusterSecurityGroupId,
            // `up` builds images with Docker when a service (or the images default) builds from source.
            dockerBuilds: "build" in p.images || p.services.some((s) => s.build !== undefined),
            logKmsKeyArn: logKey,
            tags,
          },
          child,
        )
      : undefined;
    // Everything below that waits for pods also waits for the nodes (first deploys race them otherwise).
    const onCluster = {
      parent: this,
      providers: { kubernetes: cluster.provider },
      transformations: [waitForNodes(cluster.nodeGroup)],
    };
    metricsServerAddon(`${name}-metrics-server`, cluster.clusterName, tags, { parent: this, dependsOn: [cluster.nodeGroup] });
    // Enforces the NetworkPolicies below (EKS ignores them otherwise); the nodes need it, so no node-group dependency.
    vpcCniAddon(`${name}-vpc-cni`, cluster.clusterName, tags, { parent: this });
    const subnetPlan = planSubnets(p.network.cidr, p.network.azCount);
    const monitoringNamespace = "monitoring";
    const storage = new ClusterStorage(
      `${name}-storage`,
      {
        clusterName: cluster.clusterName,
        oidcProviderArn: cluster.oidcProviderArn,
        oidcIssuerUrl: cluster.oidcIssuerUrl,
        region: args.region,
        retainVolumes: p.monitoring.retainVolumes,
        tags,
      },
      onCluster,
    );

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
        endpoints: pulumi
          .all([
            redis.primaryEndpoint,
            redis.port,
            db.address,
            db.port,
            cdn?.distributionId ?? "",
            proxy?.endpoint ?? "",
            pulumi.all(db.readReplicaAddresses),
          ])
          .apply(([redisHost, redisPort, dbAddress, dbPort, cdnDistributionId, proxyHost, dbReadHosts]) => ({
            redisHost,
            redisPort,
            // In-transit encryption is always on for ElastiCache and RDS (see redis.ts, database.ts, database-proxy.ts).
            redisTls: true,
            redisMode: redis.clientMode,
            dbHost: proxyHost || dbAddress,
            ...(proxyHost ? { dbDirectHost: dbAddress } : {}),
            dbReadHosts,
            dbPort,
            dbName: p.database.name,
            dbUser: p.database.username,
            dbSsl: true,
            dbSslCaFile: RDS_CA_FILE,
            dbStatsRefreshIntervalMs: p.database.statsRefreshInterval,
            cdnDistributionId,
            awsRegion: args.region,
          })),
        cdnDistributionArn: cdn?.arn,
        credentials: { redisAuthToken: redis.authToken, databaseMasterPassword: databasePassword },
        imagePlatform: imagePlatformFor(p.cluster.instanceTypes),
        networkPolicy: { albSourceCidrs: subnetPlan.public, privateCidrs: subnetPlan.private, monitoringNamespace },
        tags,
      },
      onCluster,
    );

    proxy?.attachCredentials(services.databasePasswords);

    const monitoring = new Monitoring(
      `${name}-monitoring`,
      {
        services: p.services.map((s) => ({ name: s.name, port: s.port })),
        servicesNamespace: services.namespace,
        namespace: monitoringNamespace,
        scrapeInterval: p.monitoring.scrapeInterval,
        slo: p.monitoring.slo,
        heapThreshold: p.runtime.memory.memoryMonitoring.threshold,
        retention: p.monitoring.retention,
        storageSize: p.monitoring.storageSize,
        storageClassName: storage.storageClassName,
        retainVolumes: p.monitoring.retainVolumes,
        replicas: p.monitoring.replicas,
        grafanaAdminPassword: args.grafanaAdminPassword ?? generatedSecret(`${name}-grafana-admin`, this),
        alertWebhookUrl: args.alertWebhookUrl,
      },
      // Prometheus' volumes need the gp3 StorageClass: the release waits for it (a component's dependsOn would not reach it).
      { ...onCluster, transformations: [waitForNodes(cluster.nodeGroup, storage)] },
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
    this.ciRunnerProject = ci?.projectName;
    this.registerOutputs({
      ciRunnerProject: this.ciRunnerProject,
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

  /** One rotated customer-managed key for the stack's log groups; only this account's log groups may use it. */
  #logsKey(name: string, tags: Record<string, string>): pulumi.Output<string> {
    const parent = { parent: this };
    const account = aws.getCallerIdentityOutput({}, parent).accountId;
    const region = aws.getRegionOutput({}, parent).region;
    const partition = aws.getPartitionOutput({}, parent).partition;
    return new aws.kms.Key(
      `${name}-logs-key`,
      {
        description: `${name}: CloudWatch log groups`,
        enableKeyRotation: true,
        deletionWindowInDays: 30,
        policy: pulumi.all([account, region, partition]).apply(([a, r, p]) => JSON.stringify(logsKmsKeyPolicy(a, r, p))),
        tags,
      },
      parent,
    ).arn;
  }
}
