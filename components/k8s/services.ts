import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { DatabaseMigration } from "./db-migration";
import { ServiceImage } from "./image";
import { servicesNamespaceManifest } from "./namespace";
import { defaultDenyPolicy, migrationNetworkPolicy, serviceNetworkPolicy } from "./network-policies";
import { RDS_CA_CONFIGMAP, rdsCaConfigMapManifest } from "./rds-ca";
import { LoadBalancerController } from "./lb-controller";
import type { ServiceProfile } from "../../profile/schema";
import type { PlatformEndpoints, ServiceSettings } from "../../profile/service-settings";
import { UaipService } from "./service";
import { ServiceRole } from "../aws/service-role";
import { workloadNames } from "./workload-spec";
import { ComponentArgsError } from "../../profile/errors";
import { readReplicaOf } from "../../profile/data-tier";

export interface ServicesArgs {
  /** Environment name, passed to every service. */
  environment: string;
  /** What each service gets (servicePlan(profile).services). */
  services: Pick<ServiceSettings, "profile" | "runtime">[];
  /** One namespace shared by the UAIP services (one NetworkPolicy/monitoring scope). @default "uaip" */
  namespace?: string;
  cluster: { name: pulumi.Input<string>; oidcProviderArn: pulumi.Input<string>; oidcIssuerUrl: pulumi.Input<string> };
  vpcId: pulumi.Input<string>;
  region: pulumi.Input<string>;
  /** ALB target group per service name. */
  targetGroupArns: Record<string, pulumi.Input<string>>;
  /** @default 30 */
  deregistrationDelaySeconds?: number;
  /** Where things are; `dbUser` is the master user, which only the migration Job uses. */
  endpoints: pulumi.Input<PlatformEndpoints>;
  /** `databaseMasterPassword` goes only into the migration Job; each service gets its own role and password. */
  credentials: { redisAuthToken: pulumi.Input<string>; databaseMasterPassword: pulumi.Input<string> };
  /**
   * NetworkPolicies: default-deny plus, per service, DNS, Redis, PostgreSQL, the ALB and Prometheus.
   * @default undefined (none: the plan check network-policies fails on such a plan)
   */
  networkPolicy?: { albSourceCidrs: string[]; privateCidrs: string[]; monitoringNamespace: string };
  /** Platform of images built here (the nodes' architecture). @default "linux/amd64" */
  imagePlatform?: "linux/amd64" | "linux/arm64";
  /**
   * ARN of the CloudFront distribution; each service whose runtime purges the CDN gets an IRSA
   * role allowed to invalidate this distribution only. Required when any service purges the CDN.
   * @default undefined
   */
  cdnDistributionArn?: pulumi.Input<string>;
  /** AWS tags (ECR repositories, IAM roles). @default {} */
  tags?: Record<string, string>;
}

/**
 * The UAIP services on the cluster: their namespace, the AWS Load Balancer Controller that
 * binds pods to the ALB's target groups, and one UaipService (with its image) per profile entry.
 * Pass the cluster's Kubernetes provider in `opts.providers`.
 */
export class Services extends pulumi.ComponentResource {
  public readonly namespace: string;
  public readonly images: Record<string, pulumi.Output<string>> = {};
  public readonly configMapData: Record<string, pulumi.Output<Record<string, string>>> = {};
  /** Each service's database role and its password (a secret), by role: what RDS Proxy's secrets hold. */
  public readonly databasePasswords: Record<string, pulumi.Output<string>>;

  constructor(name: string, args: ServicesArgs, opts: pulumi.ComponentResourceOptions = {}) {
    super("uaip:k8s:Services", name, {}, opts);
    this.namespace = args.namespace ?? "uaip";
    const ns = new k8s.core.v1.Namespace(`${name}-namespace`, servicesNamespaceManifest(this.namespace), { parent: this });

    const missing = args.services.map((s) => s.profile.name).filter((n) => !args.targetGroupArns[n]);
    if (missing.length)
      throw new ComponentArgsError(
        "ServicesArgs.targetGroupArns",
        `no ALB target group for service(s) ${missing.join(", ")}; the load balancer must get the same services list`,
      );

    const controller = new LoadBalancerController(
      `${name}-lbc`,
      {
        clusterName: args.cluster.name,
        oidcProviderArn: args.cluster.oidcProviderArn,
        oidcIssuerUrl: args.cluster.oidcIssuerUrl,
        vpcId: args.vpcId,
        region: args.region,
        targetGroupArns: Object.values(args.targetGroupArns),
        tags: args.tags,
      },
      { parent: this },
    );

    // Refused before anything is created: a purge without a distribution would fail on every invalidation.
    for (const { profile, runtime } of args.services) {
      if (runtime.cache.cdn.enabled && args.cdnDistributionArn === undefined) {
        throw new ComponentArgsError(
          `services.${profile.name}.runtime.cache.cdn.enabled`,
          "the service purges the CDN but the platform has no CloudFront distribution; enable cdn or set runtime.cache.cdn.enabled false",
        );
      }
    }
    // One RDS CA bundle for the namespace: every service and the migration Job mount it to verify PostgreSQL's certificate.
    const rdsCa = new k8s.core.v1.ConfigMap(`${name}-rds-ca`, rdsCaConfigMapManifest(this.namespace), {
      parent: this,
      dependsOn: [ns],
    });
    const policy = args.networkPolicy;
    const endpoints = pulumi.output(args.endpoints);
    if (policy)
      new k8s.networking.v1.NetworkPolicy(`${name}-default-deny`, defaultDenyPolicy(this.namespace), {
        parent: this,
        dependsOn: [ns],
      });

    // One image (one ECR repository, one build) per distinct build, shared by the services built alike:
    // by default all of them run the reference service image, built once per stack.
    const builds = new Map<string, ServiceImage>();
    const buildKey = (p: ServiceProfile) => JSON.stringify(p.build);
    const shared = (p: ServiceProfile) =>
      args.services.filter((s) => s.profile.build && buildKey(s.profile) === buildKey(p)).length > 1;
    const imageFor = (p: ServiceProfile): ServiceImage => {
      if (!p.build) return new ServiceImage(`${name}-${p.name}-image`, { image: p.image, tags: args.tags }, { parent: this });
      const key = buildKey(p);
      if (!builds.has(key))
        builds.set(
          key,
          new ServiceImage(
            shared(p) ? `${name}-image${builds.size ? `-${builds.size + 1}` : ""}` : `${name}-${p.name}-image`,
            { build: p.build, platform: args.imagePlatform, tags: args.tags },
            { parent: this },
          ),
        );
      return builds.get(key)!;
    };
    const images = Object.fromEntries(args.services.map(({ profile }) => [profile.name, imageFor(profile)]));

    // The migration Job's pod is cut off by default-deny too: it may reach DNS and PostgreSQL, and waits until it can.
    const migrationPolicy = policy
      ? new k8s.networking.v1.NetworkPolicy(
          `${name}-db-migration-netpol`,
          migrationNetworkPolicy({ namespace: this.namespace, database: { cidrs: policy.privateCidrs, port: endpoints.dbPort } }),
          { parent: this, dependsOn: [ns] },
        )
      : undefined;
    // Runs the migrations and creates each service's role (CONNECTION LIMIT = its slice) with the
    // master password, before any Deployment rolls. Every service image ships @uaip/runtime's migrations.
    const migration = new DatabaseMigration(
      `${name}-db`,
      {
        namespace: ns.metadata.name,
        image: images[args.services[0].profile.name].imageRef,
        services: args.services.map((s) => s.profile),
        // Directly to the instance, never through RDS Proxy: the migration lock is a session advisory lock, which would pin.
        database: endpoints.apply((e) => ({ host: e.dbDirectHost ?? e.dbHost, port: e.dbPort, name: e.dbName, user: e.dbUser })),
        masterPassword: args.credentials.databaseMasterPassword,
        caConfigMapName: RDS_CA_CONFIGMAP,
        dependsOn: [rdsCa, ...(migrationPolicy ? [migrationPolicy] : [])],
      },
      { parent: this },
    );

    args.services.forEach(({ profile, runtime }, serviceIndex) => {
      if (policy) {
        const spec = serviceNetworkPolicy({
          namespace: this.namespace,
          service: profile,
          albSourceCidrs: policy.albSourceCidrs,
          redis: { cidrs: policy.privateCidrs, port: endpoints.redisPort },
          database: { cidrs: policy.privateCidrs, port: endpoints.dbPort },
          monitoringNamespace: policy.monitoringNamespace,
          awsApis: runtime.cache.cdn.enabled,
        });
        new k8s.networking.v1.NetworkPolicy(`${name}-${profile.name}-netpol`, spec, { parent: this, dependsOn: [ns] });
      }
      const role = runtime.cache.cdn.enabled
        ? new ServiceRole(
            `${name}-${profile.name}-iam`,
            {
              namespace: this.namespace,
              serviceAccount: workloadNames(profile.name, this.namespace).serviceAccount,
              oidcProviderArn: args.cluster.oidcProviderArn,
              oidcIssuerUrl: args.cluster.oidcIssuerUrl,
              cdnDistributionArn: args.cdnDistributionArn!,
              tags: args.tags,
            },
            { parent: this },
          )
        : undefined;
      const image = images[profile.name];
      const service = new UaipService(
        `${name}-${profile.name}`,
        {
          service: profile,
          runtime,
          environment: args.environment,
          namespace: this.namespace,
          image: image.imageRef,
          targetGroupArn: args.targetGroupArns[profile.name],
          deregistrationDelaySeconds: args.deregistrationDelaySeconds,
          endpoints: endpoints.apply((e) => {
            const replica = readReplicaOf(serviceIndex, e.dbReadHosts?.length ?? 0);
            return {
              ...e,
              dbUser: migration.roles[profile.name],
              ...(replica !== undefined ? { dbReadHost: e.dbReadHosts![replica] } : {}),
            };
          }),
          credentials: { redisAuthToken: args.credentials.redisAuthToken, databasePassword: migration.passwords[profile.name] },
          crdRelease: controller.release,
          rdsCa,
          dependsOn: [migration.job],
          roleArn: role?.roleArn,
        },
        // The TargetGroupBinding CRD comes with the controller's chart (crdRelease: a component's dependsOn does not reach its children).
        { parent: this, dependsOn: [ns, controller.release] },
      );
      this.images[profile.name] = image.imageRef;
      this.configMapData[profile.name] = service.configMapData;
    });
    this.databasePasswords = Object.fromEntries(
      args.services.map(({ profile }) => [migration.roles[profile.name]!, migration.passwords[profile.name]!]),
    );
    this.registerOutputs({ namespace: this.namespace, images: this.images });
  }
}
